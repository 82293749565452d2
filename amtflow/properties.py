"""The property grammar: ``[[NAME]]`` references in definition text, and their substitution.

- ``[[NAME]]``: a property from ``properties:`` or ``--property NAME=VALUE``;
- ``[[ENV:NAME]]``: an environment variable (read at run time, never at validation);
- built-ins ``[[$SCHEDULE DATE]]``, ``[[$SCHEDULE NAME]]``, ``[[$JOB NAME]]``; the date takes a
  day offset and a strftime format, both optional: ``[[$SCHEDULE DATE(-2d):%Y%m%d]]``.

Property values may themselves hold references; they are substituted recursively, to a depth limit
and to an expanded length of ``MAX_VALUE_CHARS`` (a property "bomb" of ten levels of ten
references each would otherwise expand to gigabytes).

Values read from the environment are secrets: ``substitute(..., masked=True)`` gives the same text
with each of them written as ``MASK``, the form every output shows (the server gets the real one).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from amtflow.errors import DefinitionError
from amtflow.secrets import masking

RefKind = Literal["property", "env", "builtin"]

SCHEDULE_DATE = "$SCHEDULE DATE"
SCHEDULE_NAME = "$SCHEDULE NAME"
JOB_NAME = "$JOB NAME"
BUILTINS = (SCHEDULE_DATE, SCHEDULE_NAME, JOB_NAME)
MAX_DEPTH = 10
MAX_VALUE_CHARS = 64 * 1024  # a resolved value longer than this is an error, not a 100 MB string
MASK = "********"

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
    masked: bool = False  # environment values written as MASK (the form outputs show)
    kept_env: bool = False  # environment references kept as written (the form the journal keeps)


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
    """``text`` with every reference replaced; unknown names and unset env vars raise, and so
    does a value that expands past ``MAX_VALUE_CHARS``."""
    return _substitute(text, context, ())


def _substitute(text: str, context: PropertyContext, chain: tuple[str, ...]) -> str:
    if "[[" not in text:
        return text
    if len(chain) > MAX_DEPTH:
        raise DefinitionError(f"properties nest too deep: {' -> '.join(chain)}")
    parts: list[str] = []
    size, start = 0, 0
    for match in _REFERENCE.finditer(text):
        value = _value(parse_reference(match.group(1)), context, chain)
        parts += (text[start : match.start()], value)
        size += match.start() - start + len(value)
        start = match.end()
        if size > MAX_VALUE_CHARS:  # checked as it grows: a bomb is stopped at 64 KiB, not 100 MB
            raise DefinitionError(too_long(chain))
    parts.append(text[start:])
    if size + len(text) - start > MAX_VALUE_CHARS:
        raise DefinitionError(too_long(chain))
    return "".join(parts)


def too_long(chain: tuple[str, ...]) -> str:
    """The error of a value that expands past the cap (``chain``: the properties it went through)."""
    via = f" (through {' -> '.join(chain)})" if chain else ""
    return f"expands to more than {MAX_VALUE_CHARS // 1024} KiB{via}: properties are capped there"


def _value(ref: PropertyRef, context: PropertyContext, chain: tuple[str, ...]) -> str:
    if ref.kind == "env":
        if context.kept_env:
            return ref.text
        if ref.name not in context.environ:
            raise DefinitionError(
                f"environment variable {ref.name} is not set (used as {ref.text})"
            )
        return MASK if context.masked else context.environ[ref.name]
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


def expanded_length(
    text: str, values: Mapping[str, str], memo: dict[str, int] | None = None, depth: int = 0
) -> int:
    """How long ``text`` grows once its references are substituted, without building it.

    For validation, which has no environment: an ``[[ENV:...]]`` counts as its own text. The
    count stops just past ``MAX_VALUE_CHARS``; unknown names, loops and malformed references
    count as their text (they are reported by their own checks).
    """
    memo = {} if memo is None else memo
    size = len(text)
    if "[[" not in text or depth > MAX_DEPTH:
        return size
    for match in _REFERENCE.finditer(text):
        size += _reference_length(match.group(1), values, memo, depth) - len(match.group(0))
        if size > MAX_VALUE_CHARS:
            return MAX_VALUE_CHARS + 1
    return size


def _reference_length(
    body: str, values: Mapping[str, str], memo: dict[str, int], depth: int
) -> int:
    try:
        ref = parse_reference(body)
    except DefinitionError:
        return len(body) + 4
    if ref.kind == "builtin":
        sample = PropertyContext({}, {}, "", "", dt.date(2000, 12, 31))
        return len(_builtin_value(ref, sample)) if ref.name == SCHEDULE_DATE else len(ref.text)
    if ref.kind == "env" or ref.name not in values:
        return len(ref.text)
    if ref.name not in memo:
        memo[ref.name] = len(ref.text)  # a loop counts as the reference's own text
        memo[ref.name] = expanded_length(values[ref.name], values, memo, depth + 1)
    return memo[ref.name]


def secret_values(texts: Iterable[str], context: PropertyContext) -> tuple[str, ...]:
    """The environment values ``texts`` resolve through (directly or via properties): what a
    job's own messages must not show either, should the server echo them."""
    names: set[str] = set()
    for text in texts:
        _env_names(text, context.properties, names, 0)
    values = {context.environ[name] for name in names if name in context.environ}
    return tuple(sorted((v for v in values if v.strip()), key=len, reverse=True))


def _env_names(text: str, properties: Mapping[str, str], names: set[str], depth: int) -> None:
    if "[[" not in text or depth > MAX_DEPTH:
        return
    for match in _REFERENCE.finditer(text):
        try:
            ref = parse_reference(match.group(1))
        except DefinitionError:
            continue
        if ref.kind == "env":
            names.add(ref.name)
        elif ref.kind == "property" and ref.name in properties:
            _env_names(properties[ref.name], properties, names, depth + 1)


def masked_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each of ``secrets`` (longest first) written as ``MASK``; one shorter than
    4 characters only where it stands as a whole token (``amtflow.secrets.secret_pattern``)."""
    return masking(secrets, MASK)(text)
