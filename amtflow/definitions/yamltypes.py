"""The YAML 1.2 core schema's scalars, not PyYAML's 1.1 defaults.

Only true/false (any case variant) are booleans, ``on``/``yes``/``NO`` stay strings, dates stay
ISO strings, ``0777`` is the decimal 777; an explicit tag may ask only for a core type.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+\Z")
_INT_BASE = re.compile(r"0o[0-7]+\Z|0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_SPECIAL_FLOAT = {
    ".inf": float("inf"),
    "+.inf": float("inf"),
    "-.inf": float("-inf"),
    ".nan": float("nan"),
}
_MAYBE_TYPED = frozenset("0123456789+-.~nNtTfF")


def resolve_plain(text: str) -> Any:
    """The YAML 1.2 core schema value of a plain (unquoted, untagged) scalar."""
    if text and text[0] not in _MAYBE_TYPED:
        return text
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.match(text) or _INT_BASE.match(text):
        return _integer(text)
    if _FLOAT.match(text):
        return float(text)
    return _SPECIAL_FLOAT.get(text.lower(), text)


def _integer(text: str) -> int | str:
    """Decimal, ``0o`` octal or ``0x`` hex; a number too long for Python stays text."""
    try:
        return int(text, 10) if _INT.match(text) else int(text[2:], 8 if text[1] == "o" else 16)
    except ValueError:  # more digits than int() accepts (CVE-2020-10735 limit)
        return text


TAG = "tag:yaml.org,2002:"
TAGGED: dict[str, Callable[[str], Any]] = {
    TAG + "str": str,
    TAG + "int": lambda text: int(text, 0),
    TAG + "float": float,
    TAG + "bool": lambda text: _BOOL[text],
    TAG + "null": lambda text: None,
}


def short_tag(tag: str | None) -> str:
    """A core tag as written in YAML (``!!int``); any other as it is."""
    return "!!" + tag[len(TAG) :] if tag and tag.startswith(TAG) else str(tag)
