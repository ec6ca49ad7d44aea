"""``--set KEY=VALUE`` for config dataclasses; the machinery lives in
:mod:`replab.sweeps.settings`, shared with model sweeps (one meaning for a setting)."""

from replab.sweeps.settings import (
    TUPLE_SYNTAX,
    allowed_values,
    config_from_values,
    convert,
    parse_list,
    parse_settings,
    settings_help,
)

__all__ = ["TUPLE_SYNTAX", "parse_list", "settings_help", "allowed_values", "parse_settings",
           "convert", "config_from_values"]
