"""A YAML syntax error said where the user went wrong, in words that say what is likely missing.

PyYAML reports where its parser gave up, which is often the line after the mistake, in the
parser's own terms. The usual mistakes in a definitions file are few: no space after a key's
``:``, a key indented less (or more) than the keys beside it, a tab. Anything else keeps the
parser's wording, prefixed with ``YAML syntax:``.
"""

from __future__ import annotations

import re

import yaml

Problem = tuple[str, int, int]  # message, 1-based line, column

_KEY_WITHOUT_SPACE = re.compile(r"([A-Za-z_][\w.-]*):(\S.*)")
_KEY = re.compile(r"([A-Za-z_][\w.-]*):(?: |$)")  # a key line; a "- item" line is another story
_STRUCTURE = ("expected '-' indicator", "did not find expected key", "expected <block end>")


def syntax_problem(exc: yaml.MarkedYAMLError, text: str) -> Problem:
    """The message, line and column to report for ``exc`` raised while parsing ``text``."""
    lines = text.split("\n")
    problem = exc.problem or "invalid YAML"
    line, column = _where(exc)
    if "\t" in _line(lines, line)[: max(column, 1)]:
        return "tab character: YAML indents with spaces only", line, column
    for hint in (_missing_space, _indentation):
        found = hint(exc, lines)
        if found:
            return found
    context = f" {exc.context}" if exc.context else ""
    return f"YAML syntax: {problem}{context}", line, column


def _where(exc: yaml.MarkedYAMLError) -> tuple[int, int]:
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark and "end of stream" in (exc.problem or ""):
        mark = exc.context_mark  # where the unclosed thing began, not the end of the file
    return (mark.line + 1, mark.column + 1) if mark else (1, 1)


def _missing_space(exc: yaml.MarkedYAMLError, lines: list[str]) -> Problem | None:
    """``job_name:FEECALC`` is one word to YAML; the parser notices on the next line."""
    mark = exc.context_mark
    if mark is None or "simple key" not in (exc.context or ""):
        return None
    line = mark.line + 1
    written = _line(lines, line)[mark.column :].split(" #", 1)[0].rstrip()
    found = _KEY_WITHOUT_SPACE.fullmatch(written)
    if found:
        key, value = found.groups()
        message = f"'{_cut(written)}' needs a space after ':' (write '{key}: {_cut(value)}')"
    else:
        message = f"'{_cut(written)}' is not 'key: value' or '- item': is a ':' missing?"
    return message, line, mark.column + 1


def _indentation(exc: yaml.MarkedYAMLError, lines: list[str]) -> Problem | None:
    """A key indented unlike the keys beside it: say so at its own line, with both columns."""
    mark = exc.problem_mark
    problem = exc.problem or ""
    if mark is None or not (any(words in problem for words in _STRUCTURE) or _over_indented(exc)):
        return None
    line = mark.line + 1
    here, above = _line(lines, line), _previous(lines, line)
    key = _KEY.match(here.lstrip(" "))
    if not key or above is None:
        return None
    column, other = _indent(here) + 1, _indent(lines[above - 1]) + 1
    if column == other:
        return None
    way = "less" if column < other else "more"
    message = (
        f"'{key.group(1)}' is indented {way} than the line above (column {column}, "
        f"line {above} starts at column {other}): keys of one mapping must line up"
    )
    return message, line, column


def _over_indented(exc: yaml.MarkedYAMLError) -> bool:
    # "b:" indented under "a: x" reads as the continuation "x b" followed by a stray ':'
    return "mapping values are not allowed" in (exc.problem or "")


def _previous(lines: list[str], line: int) -> int | None:
    for number in range(line - 1, 0, -1):
        stripped = lines[number - 1].strip()
        if stripped and not stripped.startswith("#"):
            return number
    return None


def _indent(text: str) -> int:
    stripped = text.lstrip(" ")
    offset = len(text) - len(stripped)
    if stripped.startswith("- "):  # the key of a list item's mapping stands after its dash
        return offset + 2 + len(stripped[2:]) - len(stripped[2:].lstrip(" "))
    return offset


def _line(lines: list[str], line: int) -> str:
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _cut(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
