"""A model's settings by name: ``--set KEY=VALUE`` text, sweep-spec values, the help table.

``replab simulate MODEL --set``, ``replab sweep`` (the ``[fixed]`` and ``[grid]`` of a model
target) and :func:`replab.sweep_model` all turn settings into a config here, so a setting
has the same name, type and checks everywhere.

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
from collections.abc import Mapping
from typing import Any

from replab.errors import ConfigError

__all__ = ["TUPLE_SYNTAX", "parse_list", "settings_help", "allowed_values", "parse_settings",
           "convert", "setting_names", "config_from_values", "with_cause"]

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


# ------------------------------------------------------------------ values


def parse_settings(pairs: list[str] | None, config_cls: type, owner: str) -> dict[str, Any]:
    """Turn ``--set KEY=VALUE`` pairs into keyword arguments for a config dataclass.

    Values are converted by the field's annotated type (bool, int, float, str); unknown
    keys and unconvertible values raise ConfigError naming the key. A config may declare
    ``SETTING_ALIASES`` (a ClassVar dict of short name -> field name).
    """
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    hints = typing.get_type_hints(config_cls)
    aliases: dict[str, str] = getattr(config_cls, "SETTING_ALIASES", {})
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        key = aliases.get(key, key)
        if not sep:
            raise ConfigError(f"--set expects KEY=VALUE. Got {pair!r} instead.")
        if key not in fields:
            raise ConfigError(
                f"Unknown setting {key!r} for {owner}; known settings: "
                f"{', '.join(sorted(fields))}."
            )
        out[key] = convert(raw.strip(), hints[key], key, owner)
    return out


def convert(raw: str, hint: Any, key: str, owner: str) -> Any:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    kinds = args or [hint]
    if raw.lower() in ("none", "null") and type(None) in typing.get_args(hint):
        return None
    if tuple in kinds:
        return parse_list(raw, key, owner)
    for kind in (bool, int, float, str):
        if kind in kinds:
            try:
                if kind is bool:
                    if raw.lower() in ("true", "yes", "1", "on"):
                        return True
                    if raw.lower() in ("false", "no", "0", "off"):
                        return False
                    raise ValueError(raw)
                return kind(raw)
            except ValueError:
                continue
    allowed = " or ".join(getattr(k, "__name__", str(k)) for k in kinds)
    raise ConfigError(
        f"The {key!r} parameter of {owner} must be {allowed}. Got {raw!r} instead."
    )


def setting_names(config_cls: type) -> list[str]:
    """The settings of ``config_cls`` (its fields), in declaration order."""
    return [f.name for f in dataclasses.fields(config_cls)]


def _value(value: Any, hint: Any, key: str, owner: str) -> Any:
    """A sweep-spec value (TOML-typed) as the field wants it: text is read as on the
    command line, a list becomes a tuple (of tuples) for a list setting."""
    kinds = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    if isinstance(value, str) and str not in kinds:
        return convert(value, hint, key, owner)
    if tuple in kinds and isinstance(value, list):
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return value


def config_from_values(config_cls: type, values: Mapping[str, Any], owner: str) -> Any:
    """``config_cls`` from settings given as values (a spec's tables, a Python dict).

    Names and aliases as on the command line (unknown names are a ConfigError listing the
    known ones); then the config validates itself.
    """
    hints = typing.get_type_hints(config_cls)
    aliases: dict[str, str] = getattr(config_cls, "SETTING_ALIASES", {})
    out: dict[str, Any] = {}
    for raw_key, value in values.items():
        key = aliases.get(raw_key.replace("-", "_"), raw_key.replace("-", "_"))
        if key not in hints or key not in setting_names(config_cls):
            raise ConfigError(f"Unknown setting {raw_key!r} for {owner}; known settings: "
                              f"{', '.join(sorted(setting_names(config_cls)))}.")
        out[key] = _value(value, hints[key], key, owner)
    try:
        return config_cls(**out)
    except ConfigError as e:
        raise with_cause(e) from None


def with_cause(error: ConfigError) -> ConfigError:
    """A list setting's error names the item at fault.

    A config that wraps the error of one fault ("must be a list of (time, action, args)
    faults", showing the whole list as the value) gives way to that error, which names
    the field and the value actually at fault.
    """
    cause = error.__cause__
    text = str(error)
    if (isinstance(cause, ConfigError) and "must be a list of" in text
            and "must be a list of" not in str(cause) and text.count("'") >= 2):
        return ConfigError(f"{cause} (in the {text.split(chr(39))[1]!r} setting)")
    return error
