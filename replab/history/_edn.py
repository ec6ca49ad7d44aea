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

__all__ = ["parse_edn", "to_plain", "parse_edn_slow"]

# One flat op map on a line: no strings with blanks or delimiters, tags, sets, lists,
# nested maps, comments or character literals.
_SIMPLE = re.compile(r'\{(?:[^"#;\\{}()]|"[^"\\\s:,;#{}\[\]()]*")*\}')
_KEY = re.compile(r'(?<=[{,])\s*:([^\s,\[\]{}"]+)\s+')
_KEYWORD = re.compile(r'(?<![\w"]):([^\s,\[\]{}"]+)')
_NIL = re.compile(r'(?<=[\s\[{,])nil(?=[\s\]},])')
_BLANK = re.compile(r'(?<=[^\s,\[{:])[ \t]+(?=[^\s,\]}])')
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


def _fast(lines: list[str], simple: list[int]) -> list[Any] | None:
    body = ",".join(lines[n] for n in simple)
    body = _KEY.sub(r' "\1": ', body)
    body = _KEYWORD.sub(r'"\1"', body)
    body = _NIL.sub("null", body)
    body = _BLANK.sub(",", body)
    try:
        ops = json.loads("[" + body + "]")
    except ValueError:
        return None
    return ops if len(ops) == len(simple) else None


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
    for op in ops:
        if type(op) is not dict:
            continue
        t = op.get("time")
        if (type(t) is int or type(t) is float) and "time" in op:
            op["time"] = t / 1e6
        if op.get("f") == "final-read":
            op["f"], op["final"] = "read", True


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
