"""Jepsen/Knossos ``history.edn`` -> op dicts, with the maintained ``edn_format`` parser.

Keywords become strings (``:ok`` -> ``"ok"``, ``:nemesis`` -> ``"nemesis"``), vectors and
lists become lists, maps become dicts, sets sorted lists. A history is a sequence of op maps
(one a line, as Jepsen writes them) or one vector of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

import edn_format
from edn_format import Keyword, Symbol

from replab.errors import HistoryError

__all__ = ["parse_edn", "to_plain"]


def to_plain(x: Any) -> Any:
    """An EDN value as plain JSON-like Python data."""
    if isinstance(x, Keyword | Symbol):
        return x.name
    if isinstance(x, Mapping):
        return {_key(k): to_plain(v) for k, v in x.items()}
    if isinstance(x, Sequence) and not isinstance(x, str | bytes):
        return [to_plain(v) for v in x]
    if isinstance(x, AbstractSet):
        return sorted((to_plain(v) for v in x), key=repr)
    return x


def _key(k: Any) -> Any:
    k = to_plain(k)
    return k if isinstance(k, str | int) else repr(k)


def parse_edn(data: bytes) -> tuple[list[Any], list[int] | None]:
    """The op maps of an EDN history and the line each is on (None: ops span lines)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise HistoryError("not valid UTF-8 text") from None
    ops: list[Any] = []
    lines: list[int] = []
    for n, line in enumerate(text.split("\n"), start=1):
        body = line.strip()
        if not body or body.startswith(";"):
            continue
        try:
            forms = edn_format.loads_all(body)
        except Exception:  # noqa: BLE001 - edn_format raises several kinds; a form may span lines
            return _parse_whole(text)
        for form in forms:
            if (isinstance(form, Sequence) and form
                    and all(isinstance(f, Mapping) for f in form)):
                ops.extend(to_plain(f) for f in form)
                lines.extend([n] * len(form))
            else:
                ops.append(to_plain(form))
                lines.append(n)
    return ops, lines


def _parse_whole(text: str) -> tuple[list[Any], None]:
    try:
        forms = edn_format.loads_all(text)
    except Exception as e:  # noqa: BLE001
        raise HistoryError(f"not valid EDN ({e})") from None
    if len(forms) == 1 and isinstance(forms[0], Sequence):
        forms = list(forms[0])
    return [to_plain(f) for f in forms], None
