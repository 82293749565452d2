"""The property grammar: ``[[NAME]]`` references in definition text, and their substitution.

- ``[[NAME]]``: a property from ``properties:`` or ``--property NAME=VALUE``;
- ``[[ENV:NAME]]``: an environment variable (read at run time, never at validation);
- built-ins ``[[$SCHEDULE DATE]]``, ``[[$SCHEDULE NAME]]``, ``[[$JOB NAME]]``; the date takes a
  day offset and a strftime format, both optional: ``[[$SCHEDULE DATE(-2d):%Y%m%d]]``.

Property values may themselves hold references; they are substituted recursively, to a depth limit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from amtflow.errors import DefinitionError

RefKind = Literal["property", "env", "builtin"]

SCHEDULE_DATE = "$SCHEDULE DATE"
SCHEDULE_NAME = "$SCHEDULE NAME"
JOB_NAME = "$JOB NAME"
BUILTINS = (SCHEDULE_DATE, SCHEDULE_NAME, JOB_NAME)
MAX_DEPTH = 10

_REFERENCE = re.compile(r"\[\[([^\[\]]*)\]\]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
_DATE = re.compile(r"\$SCHEDULE DATE(?:\(([+-][0-9]{1,5})d\))?(?::(.+))?\Z")


@dataclass(frozen=True)
class PropertyRef:
    """One ``[[...]]`` reference: its kind, name, and for the date its offset and format."""

    text: str
    kind: RefKind
    name: str
    offset_days: int = 0
    format: str | None = None


@dataclass(frozen=True)
class PropertyContext:
    """What references resolve against when a job is planned for a date."""

    properties: Mapping[str, str]
    environ: Mapping[str, str]
    schedule_name: str
    job_name: str
    date: dt.date


def references(text: str) -> list[PropertyRef]:
    """Every reference in ``text``, in order; a malformed one raises ``DefinitionError``."""
    if "[[" not in text:
        return []
    return [parse_reference(match.group(1)) for match in _REFERENCE.finditer(text)]


def parse_reference(body: str) -> PropertyRef:
    """Parse the inside of ``[[...]]``."""
    text = f"[[{body}]]"
    if body.startswith("ENV:"):
        return _checked_name(text, "env", body[4:])
    if body.startswith("$"):
        return _builtin(text, body)
    return _checked_name(text, "property", body)


def _checked_name(text: str, kind: RefKind, name: str) -> PropertyRef:
    if not _NAME.match(name):
        raise DefinitionError(f"malformed property reference {text}: expected a NAME")
    return PropertyRef(text, kind, name)


def _builtin(text: str, body: str) -> PropertyRef:
    if body in (SCHEDULE_NAME, JOB_NAME):
        return PropertyRef(text, "builtin", body)
    match = _DATE.match(body)
    if not match:
        known = ", ".join(f"[[{name}]]" for name in BUILTINS)
        raise DefinitionError(f"unknown built-in property {text} (known: {known})")
    offset, fmt = match.groups()
    return PropertyRef(text, "builtin", SCHEDULE_DATE, int(offset or 0), fmt)


def substitute(text: str, context: PropertyContext) -> str:
    """``text`` with every reference replaced; unknown names and unset env vars raise."""
    return _substitute(text, context, ())


def _substitute(text: str, context: PropertyContext, chain: tuple[str, ...]) -> str:
    if "[[" not in text:
        return text
    if len(chain) > MAX_DEPTH:
        raise DefinitionError(f"properties nest too deep: {' -> '.join(chain)}")
    return _REFERENCE.sub(
        lambda match: _value(parse_reference(match.group(1)), context, chain), text
    )


def _value(ref: PropertyRef, context: PropertyContext, chain: tuple[str, ...]) -> str:
    if ref.kind == "env":
        if ref.name not in context.environ:
            raise DefinitionError(
                f"environment variable {ref.name} is not set (used as {ref.text})"
            )
        return context.environ[ref.name]
    if ref.kind == "builtin":
        return _builtin_value(ref, context)
    if ref.name not in context.properties:
        raise DefinitionError(f"unknown property {ref.text}")
    if ref.name in chain:
        raise DefinitionError(f"property loop: {' -> '.join((*chain, ref.name))}")
    return _substitute(context.properties[ref.name], context, (*chain, ref.name))


def _builtin_value(ref: PropertyRef, context: PropertyContext) -> str:
    if ref.name == SCHEDULE_NAME:
        return context.schedule_name
    if ref.name == JOB_NAME:
        return context.job_name
    day = context.date + dt.timedelta(days=ref.offset_days)
    return day.strftime(ref.format) if ref.format else day.isoformat()
