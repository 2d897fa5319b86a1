"""Just enough YAML output for Mermaid frontmatter, byte-identical to PyYAML.

LangGraph writes the ``---`` frontmatter of ``draw_mermaid()`` with
``yaml.dump(config, default_flow_style=False)``.  swiftgraph has no
dependencies, so this emits the same block style for dicts, lists and scalars:
keys sorted, sequences not indented under their key, strings quoted only when
PyYAML would quote them (indicators, or text that would read back as a bool,
number, null or date).  Very long strings (which PyYAML folds at 80 columns)
and non-ASCII text are outside its scope.
"""

from __future__ import annotations

import math
import re
from typing import Any

# PyYAML's implicit resolvers: strings that would read back as bool/int/float/null/date
_YAML_SPECIAL = re.compile(
    r"^(?:~|null|Null|NULL|yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE"
    r"|on|On|ON|off|Off|OFF|<<|=|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)"
    r"|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"
    r"|[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+).*)$"
)
_YAML_PLAIN = re.compile(r"^(?:[A-Za-z0-9_./()$^+=;\\~<]|[-?:][!-~])[ -~]*$")


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value).lower()
        return text.replace("e", ".0e", 1) if "." not in text and "e" in text else text
    text = str(value)
    plain = (
        _YAML_PLAIN.match(text)
        and not _YAML_SPECIAL.match(text)
        and not text.endswith(" ")
        and ": " not in text
        and " #" not in text
        and not text.endswith(":")
    )
    return text if plain else "'" + text.replace("'", "''") + "'"


def _yaml(value: Any, indent: int) -> list[str]:
    """Block-style lines; keys sorted and sequences not indented, as PyYAML does."""
    pad = " " * indent
    lines: list[str] = []
    items = sorted(value.items()) if isinstance(value, dict) else [(None, v) for v in value]
    for key, item in items:
        lead = f"{pad}{_yaml_scalar(key)}:" if isinstance(value, dict) else f"{pad}-"
        if isinstance(item, (dict, list, tuple)) and item:
            if isinstance(value, dict):
                child = _yaml(item, indent + (2 if isinstance(item, dict) else 0))
                lines += [lead + "\n", *child]
            else:  # "- key: v" style: first child line shares the dash
                child = _yaml(item, indent + 2)
                lines += [lead + " " + child[0].lstrip(" "), *child[1:]]
        else:
            empty = "{}" if isinstance(item, dict) else "[]"
            shown = empty if isinstance(item, (dict, list, tuple)) else _yaml_scalar(item)
            lines.append(f"{lead} {shown}\n")
    return lines


def dump_yaml(value: dict[str, Any]) -> str:
    """``yaml.dump(value, default_flow_style=False)`` for plain config dicts."""
    return "".join(_yaml(value, 0))
