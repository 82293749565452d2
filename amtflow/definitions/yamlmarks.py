"""Where a node of a definitions file stands, and a problem found there.

A node is named by its path from the top (``("schedules", 0, "jobs", 2, "name")``); its place
is a 1-based line and column. The loader keeps over a million places for a 100,000-job file,
so each is packed into one int (issue 16: a tuple of two ints costs three objects).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

Path_ = tuple[Any, ...]
Position = tuple[int, int]
KeepText = Callable[[Path_], bool]


class YamlProblem(Exception):
    """A file that cannot be read as YAML definitions, at a 1-based line and column."""

    def __init__(self, message: str, line: int = 1, column: int = 1, rule: str = "yaml") -> None:
        super().__init__(message)
        self.message, self.line, self.column, self.rule = message, line, column, rule


def mark(event: yaml.Event) -> Position:
    """Where ``event`` begins, 1-based."""
    start = event.start_mark
    return (start.line + 1, start.column + 1) if start is not None else (0, 0)


_COLUMNS = 1 << 32  # a packed position: line * _COLUMNS + column
FIRST = _COLUMNS + 1  # line 1, column 1, packed


def packed(event: yaml.Event) -> int:
    """Where ``event`` begins, packed into one int."""
    start = event.start_mark
    return (start.line + 1) * _COLUMNS + start.column + 1 if start is not None else 0


def unpacked(position: int) -> Position:
    """The line and column of a packed position."""
    line, column = divmod(position, _COLUMNS)
    return line, column
