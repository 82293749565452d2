"""The valid parts of a file that broke the schema, so that cross-checks still see them.

A schema error must not hide the cross-check errors of the rest of the file (an unknown job in
``depends_on`` beside a ``max_run_time`` of ``1 hour``). Each node the schema refused becomes
``INVALID``: a key that is there but holds nothing usable, so that "has no agent" is not reported
for an agent of the wrong type, and list items keep their index (and so their position). An
entry (a job, an agent...) whose own name is refused is dropped whole: nothing can refer to it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from .yamlmarks import Path_


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()


def valid_parts(data: Any, refused: Iterable[Path_]) -> Any:
    """A copy of ``data`` with every node at a ``refused`` path replaced by ``INVALID``."""
    paths = [_target(path) for path in refused]
    if not paths:
        return data
    if () in paths:
        return {}
    pruned = copy.deepcopy(data)
    for path in paths:
        _replace(pruned, path)
    return pruned


def _target(path: Path_) -> Path_:
    if len(path) >= 2 and path[-1] == "name" and isinstance(path[-2], int):
        return path[:-1]
    return path


def _replace(node: Any, path: Path_) -> None:
    for part in path[:-1]:
        node = _child(node, part)
    last = path[-1]
    in_mapping = isinstance(node, dict) and isinstance(last, str)
    if in_mapping or (isinstance(node, list) and isinstance(last, int) and last < len(node)):
        node[last] = INVALID


def _child(node: Any, part: Any) -> Any:
    if isinstance(node, dict) and isinstance(part, str):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and part < len(node):
        return node[part]
    return None


def listed(node: Any) -> list[Any]:
    """``node`` if it is a list, else an empty one (it was refused, or absent)."""
    return node if isinstance(node, list) else []


def mapped(node: Any) -> dict[str, Any]:
    """``node`` if it is a mapping, else an empty one (it was refused, or absent)."""
    return node if isinstance(node, dict) else {}
