"""``--set KEY=VALUE`` for config dataclasses: list settings (pairs) and the help table.

Tuple settings (``faults``, ``link_delays``, ``offline``) take a list on the command line,
written either as JSON or in a short form: items separated by ``;``, the fields of an
item by ``,``; a field ``key=value`` goes into the item's argument dict. Each field is
read as JSON when it is JSON (numbers, ``[[0], [1, 2]]``) and kept as text otherwise::

    --set 'faults=500,crash,node=0; 1500,restart,node=0'
    --set 'faults=100,partition,groups=[[0],[1,2]],duration_ms=50'
    --set 'link_delays=dc0,dc2,const:300; dc2,dc0,const:300'
    --set 'faults=[[500, "crash", {"node": 0}]]'      # the same list as JSON
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import typing
from typing import Any

from replab.errors import ConfigError

__all__ = ["TUPLE_SYNTAX", "parse_list", "settings_help", "allowed_values"]

TUPLE_SYNTAX = ("ITEM;ITEM;... with ITEM = FIELD,FIELD,...,KEY=VALUE,... "
                "(or a JSON list), e.g. 'faults=500,crash,node=0; 1500,restart,node=0'")


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside brackets and braces (JSON values keep their commas)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _field(text: str) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        return text
    # json accepts NaN/Infinity; a time of NaN is text the config will refuse by name.
    return text if isinstance(value, float) and not math.isfinite(value) else value


def _item(text: str) -> tuple[Any, ...]:
    fields, args = [], {}
    for part in _split_top(text, ","):
        key, sep, value = part.partition("=")
        if sep and re.fullmatch(r"[A-Za-z_]\w*", key.strip()):
            args[key.strip()] = _field(value.strip())
        else:
            fields.append(_field(part))
    return (*fields, args) if args else tuple(fields)


def parse_list(raw: str, key: str, owner: str) -> tuple[Any, ...]:
    """A tuple setting from its command-line text (see the module docstring)."""
    text = raw.strip()
    if not text:
        return ()
    if text[0] == "[":
        try:
            value = json.loads(text)
        except ValueError:
            raise ConfigError(f"The {key!r} parameter of {owner} must be a list written "
                              f"as {TUPLE_SYNTAX}. Got {raw!r}, which is not valid JSON, "
                              "instead.") from None
        if not isinstance(value, list):
            raise ConfigError(f"The {key!r} parameter of {owner} must be a JSON list. "
                              f"Got {raw!r} instead.")
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return tuple(_item(part) for part in _split_top(text, ";") if part)


# ------------------------------------------------------------------ help


_PROBES = (math.nan, "\x00?", -1, ())
_ALLOWED = re.compile(r"The '(?P<name>[^']+)' parameter of .*? must (?:be|have) (?P<allowed>.*?)"
                      r"\. Got .* instead\.$", re.S)


def allowed_values(config_cls: type, name: str) -> str | None:
    """What the config's own validation accepts for ``name``, asked by trying bad values.

    The help thereby quotes the validator and cannot drift from it.
    """
    for probe in _PROBES:
        try:
            config_cls(**{name: probe})
        except ConfigError as e:
            m = _ALLOWED.match(str(e))
            if m and m.group("name").split(" ")[0] == name:
                return m.group("allowed")
        except Exception:  # noqa: BLE001 (a probe that trips something else says nothing)
            continue
    return None


def _type_name(hint: Any) -> str:
    args = typing.get_args(hint)
    if args:
        return " | ".join(_type_name(a) for a in args)
    return "None" if hint is type(None) else getattr(hint, "__name__", str(hint))


def settings_help(config_cls: type) -> str:
    """The ``--help`` epilog: every setting with its type, default and allowed values."""
    hints = typing.get_type_hints(config_cls)
    lines = [f"settings (--set KEY=VALUE, repeatable; {config_cls.__name__}):"]
    for f in dataclasses.fields(config_cls):
        default = f.default if f.default is not dataclasses.MISSING else "(computed)"
        lines.append(f"  {f.name} : {_type_name(hints[f.name])} = {default!r}")
        allowed = allowed_values(config_cls, f.name)
        if allowed:
            lines.append(f"      {allowed}")
        if hints[f.name] is tuple:
            lines.append(f"      on the command line: {TUPLE_SYNTAX}")
    lines.append("Booleans: true/false, yes/no, on/off, 1/0. Optional settings: none.")
    return "\n".join(lines)
