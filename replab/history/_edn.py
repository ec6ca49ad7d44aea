"""Jepsen/Knossos ``history.edn`` -> op dicts: a fast path for flat op maps, and the
maintained ``edn_format`` parser for anything else.

Keywords become strings (``:ok`` -> ``"ok"``, ``:nemesis`` -> ``"nemesis"``), vectors and
lists become lists, maps become dicts, sets sorted lists. A history is a sequence of op maps
(one a line, as Jepsen writes them) or one vector of them. As Jepsen writes them:

* ``:time`` is in nanoseconds; it becomes ``time`` in milliseconds (DESIGN.md's unit);
* ``:f :final-read`` is a read marked ``final`` (a final-read phase);
* a tagged literal that is not ``#inst``/``#uuid`` (``#object[...]``, ``#error {...}``)
  becomes an opaque string, ``"#tag <element as EDN>"``; a tagged *op* map
  (``#jepsen.history.Op{...}``) is the op map itself.

The fast path turns the lines that hold one flat op map (keyword keys; values that are
numbers, keywords, ``nil``/``true``/``false``, strings without spaces or delimiters and
vectors of them) into JSON text with a few whole-text regular expressions, and parses them
in one ``json.loads``. Any other line, or any doubt (the JSON does not parse), goes through
``edn_format``, so the fast path can only be faster, never different (property-tested).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

import edn_format
from edn_format import Keyword, Symbol

from replab.errors import HistoryError
from replab.history._parse import NEMESIS

__all__ = ["parse_edn", "to_plain", "parse_edn_slow"]

# One flat op map on a line: no strings with blanks or delimiters, tags, sets, lists,
# nested maps, comments or character literals.
_SIMPLE = re.compile(r'\{(?:[^"#;\\{}()]|"[^"\\\s:,;#{}\[\]()]*")*\}')
_FIRST_KEY = re.compile(r'\{:([^\s,\[\]{}":]+) ')
_KEY_FIND = re.compile(r'(?:\{|, ):([^\s,\[\]{}":]+) ')
_KEYWORD_FIND = re.compile(r'(?<!"):[^\s,\[\]{}":]+')
_KEYWORD_AT = re.compile(r':[^\s,\[\]{}":]+')
_TAG = re.compile(r'(?<![\w#])#([A-Za-z][^\s\[\]{}()"\',;#]*)')
#: The longest multi-line form looked for when a line does not parse on its own.
MAX_FORM_LINES = 2000


class _Tagged:
    """An element under a tag edn_format does not know (kept until :func:`to_plain`)."""

    def __init__(self, tag: str, element: Any) -> None:
        self.tag, self.element = tag, element


def to_plain(x: Any) -> Any:
    """An EDN value as plain JSON-like Python data."""
    if isinstance(x, Keyword | Symbol):
        return x.name
    if isinstance(x, _Tagged):
        return f"#{x.tag} {edn_format.dumps(_untag(x.element))}"
    if isinstance(x, Mapping):
        return {_key(k): to_plain(v) for k, v in x.items()}
    if isinstance(x, Sequence) and not isinstance(x, str | bytes):
        return [to_plain(v) for v in x]
    if isinstance(x, AbstractSet):
        return sorted((to_plain(v) for v in x), key=repr)
    return x


def _untag(x: Any) -> Any:
    """The element with inner tags as symbols again (for printing it back as EDN)."""
    if isinstance(x, _Tagged):
        return Symbol(f"#{x.tag} {edn_format.dumps(_untag(x.element))}")
    if isinstance(x, Mapping):
        return {_untag(k): _untag(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_untag(v) for v in x]
    return x


def _key(k: Any) -> Any:
    k = to_plain(k)
    return k if isinstance(k, str | int) else repr(k)


def _op(form: Any) -> Any:
    """A top-level form as an op: a tagged op map (a Clojure record) is the map."""
    if isinstance(form, _Tagged) and isinstance(form.element, Mapping):
        form = form.element
    return to_plain(form)


def parse_edn(data: bytes) -> tuple[list[Any], list[int] | None]:
    """The op maps of an EDN history and the line each is on (None: ops span lines)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise HistoryError("not valid UTF-8 text") from None
    lines = text.split("\n")
    simple = _all_simple(text, lines)
    if simple is None:
        simple = [n for n, m in enumerate(map(_SIMPLE.fullmatch, map(str.strip, lines))) if m]
    ops: list[Any] | None = None
    if len(simple) * 2 > len(lines) - 1:
        ops = _fast(lines, simple)
    if ops is None:
        ops, where = parse_edn_slow(text)
    else:
        where = [n + 1 for n in simple]
        if len(simple) < sum(1 for ln in lines if ln.strip()):
            ops, where = _merge(lines, simple, ops)
    _jepsen_fields(ops)
    return ops, where


def _all_simple(text: str, lines: list[str]) -> list[int] | None:
    """Every non-blank line's number if each is one flat op map (whole-text checks, far
    cheaper than a regular expression a line); None: look line by line."""
    if any(c in text for c in "#;\\()\r\t"):
        return None
    numbers = [n for n, ln in enumerate(lines) if ln]
    if not (len(numbers) == text.count("{") == text.count("}")
            and all(lines[n][0] == "{" and lines[n][-1] == "}" for n in numbers)):
        return None
    if '"' in text:  # what is inside strings (odd parts; a line's odd quote shows a "\n")
        inside = "".join(text.split('"')[1::2])
        if any(c in inside for c in ' :,;#{}[]()\n\\'):
            return None
    return numbers


def _fast(lines: list[str], simple: list[int]) -> list[Any] | None:
    """The simple lines as JSON text, by plain string replacement (C speed), or None.

    Keys and keywords are few and repeat on every line: they are found in a sample and
    replaced as whole strings, then the text is checked for any left over (found in full
    and replaced, else None). Anything the replacement got wrong fails ``json.loads``."""
    body = ",".join([lines[n].strip() for n in simple])
    sample = body[:20_000]
    for first in set(_FIRST_KEY.findall(sample)):  # usually one: :index or :type
        body = body.replace(f"{{:{first} ", f'{{"{first}":')
    for key in sorted(set(_KEY_FIND.findall(sample)), key=len, reverse=True):
        body = body.replace(f", :{key} ", f',"{key}":')
    if "{:" in body or ", :" in body:
        for key in sorted(set(_KEY_FIND.findall(body)), key=len, reverse=True):
            body = body.replace(f"{{:{key} ", f'{{"{key}":').replace(f", :{key} ",
                                                                      f',"{key}":')
        if "{:" in body or ", :" in body:
            return None
    for kw in sorted(set(_KEYWORD_FIND.findall(body[:20_000])), key=len, reverse=True):
        body = body.replace(kw, f'"{kw[1:]}"')
    quoted = _quote_rare_keywords(body)
    if quoted is None:
        return None
    if "nil" in quoted:
        quoted = quoted.replace(":nil", ":null").replace("[nil", "[null").replace(" nil",
                                                                                 " null")
    # what spaces are left separate the elements of vectors
    try:
        ops = json.loads("[" + quoted.replace(" ", ",") + "]")
    except ValueError:
        return None
    return ops if len(ops) == len(simple) else None


def _quote_rare_keywords(body: str) -> str | None:
    """Quote the keywords the sample did not show (rare: found with ``str.find``, each
    replaced followed by a delimiter, so a longer keyword is never cut); None if a ``:``
    other than a key's is left."""
    keys = body.count('":')
    for _ in range(64):
        if body.count(":") == keys:
            return body
        at = next((i + 1 for i in (body.find(p) for p in ("::", "[:", " :")) if i >= 0), -1)
        m = _KEYWORD_AT.match(body, at) if at >= 0 else None
        if m is None:
            return None
        kw = m.group()
        for end in (",", "]", "}", " "):
            body = body.replace(kw + end, f'"{kw[1:]}"{end}')
    return None


def _merge(lines: list[str], simple: list[int], fast: list[Any]) \
        -> tuple[list[Any], list[int] | None]:
    """Fast ops and the other lines, parsed by edn_format, back in file order."""
    is_simple = dict(zip(simple, fast, strict=True))
    rest = "\n".join("" if n in is_simple else ln for n, ln in enumerate(lines))
    slow, where = parse_edn_slow(rest)
    if where is None:  # multi-line forms: everything the slow way
        return parse_edn_slow("\n".join(lines))
    at = dict(zip([w - 1 for w in where], slow, strict=True))
    order = sorted(set(is_simple) | set(at))
    ops = [is_simple[n] if n in is_simple else at[n] for n in order]
    return ops, [n + 1 for n in order]


def _jepsen_fields(ops: list[Any]) -> None:
    """Jepsen's conventions, in one pass: ``:time`` in ns -> ms, ``:final-read`` -> a read
    marked final, an independent key ``[k v]`` value -> ``key`` k (as a string) and
    ``value`` v (as :func:`replab.history._parse.normalise` would, here at no extra pass).
    """
    for op in ops:
        if type(op) is not dict:
            continue
        t = op.get("time")
        if type(t) is int or type(t) is float:
            op["time"] = t / 1e6
        f = op.get("f")
        if f == "final-read":
            op["f"], op["final"] = "read", True
        v = op.get("value")
        if (type(v) is list and len(v) == 2 and "key" not in op and v[0] is not None
                and op.get("process") != NEMESIS and not isinstance(v[0], list | dict | bool)
                and (f != "cas" or (type(v[1]) is list and len(v[1]) == 2))):
            k = v[0]
            op["key"], op["value"] = (k if type(k) is str else str(k)), v[1]


def _loads_all(text: str) -> list[Any]:
    tags = {t for t in _TAG.findall(text) if t not in ("inst", "uuid")}
    added = [t for t in tags if t not in edn_format.edn_parse._serializers]
    for t in added:
        edn_format.add_tag(t, lambda e, t=t: _Tagged(t, e))
    try:
        return list(edn_format.loads_all(text))
    finally:
        for t in added:
            edn_format.remove_tag(t)


def parse_edn_slow(text: str) -> tuple[list[Any], list[int] | None]:
    """Every form through edn_format: one a line, or forms spanning lines."""
    ops: list[Any] = []
    where: list[int] = []
    lines = text.split("\n")
    numbered = [n for n, ln in enumerate(lines, start=1)
                if ln.strip() and not ln.strip().startswith(";")]
    try:  # one parser run (edn_format builds its parser per call: 8 ms)
        forms = _loads_all(text)
    except Exception:  # noqa: BLE001 - the line-by-line pass below names the line
        forms = None
    if forms is not None and len(forms) == len(numbered) and not any(
            _ops_vector(f) for f in forms):
        return [_op(f) for f in forms], numbered
    for n, line in enumerate(lines, start=1):
        body = line.strip()
        if not body or body.startswith(";"):
            continue
        try:
            forms = _loads_all(body)
        except Exception:  # noqa: BLE001 - edn_format raises several kinds; a form may span lines
            return _parse_whole(text, lines, n)
        for form in forms:
            if _ops_vector(form):
                ops.extend(_op(f) for f in form)
                where.extend([n] * len(form))
            else:
                ops.append(_op(form))
                where.append(n)
    return ops, where


def _ops_vector(form: Any) -> bool:
    return (isinstance(form, Sequence) and not isinstance(form, str) and bool(form)
            and all(isinstance(f, Mapping | _Tagged) for f in form))


def _parse_whole(text: str, lines: list[str], bad: int) -> tuple[list[Any], None]:
    try:
        forms = _loads_all(text)
    except Exception:  # noqa: BLE001
        raise HistoryError(_where_it_breaks(lines, bad)) from None
    if len(forms) == 1 and isinstance(forms[0], Sequence):
        forms = list(forms[0])
    return [_op(f) for f in forms], None


def _where_it_breaks(lines: list[str], bad: int) -> str:
    """``line N: ...``: the first line that neither parses on its own nor starts a form
    that the following lines complete (a truncated file breaks on its last form)."""
    pos = bad
    while pos <= len(lines):
        body = lines[pos - 1].strip()
        if not body or body.startswith(";") or _parses(body):
            pos += 1
            continue
        for end in range(pos + 1, min(pos + MAX_FORM_LINES, len(lines)) + 1):
            if _parses("\n".join(lines[pos - 1:end])):
                pos = end + 1
                break
        else:
            try:
                _loads_all(body)
            except Exception as e:  # noqa: BLE001
                return f"line {pos}: not valid EDN ({_reason(e)})"
        continue
    return f"line {bad}: not valid EDN"


def _parses(text: str) -> bool:
    try:
        _loads_all(text)
    except Exception:  # noqa: BLE001
        return False
    return True


def _reason(e: Exception) -> str:
    msg = str(e)
    return "the file ends inside this form: truncated?" if "EOF" in msg else msg
