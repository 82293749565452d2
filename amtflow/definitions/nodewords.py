"""How a problem in a definitions file names the node at fault: its key as written (``label``),
the named thing that holds it (``owner``: `` in job 'X'``), its value shown short and safe
(``show``)."""

from __future__ import annotations

import json
import re
from typing import Any

from .yamlmarks import Path_

_OWNERS = {
    "schedules": "schedule",
    "jobs": "job",
    "agents": "agent",
    "batch_users": "batch user",
    "calendars": "calendar",
    "notifications": "notification",
}
TYPE_NAMES = {
    "string": "text",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "a list",
    "object": "a mapping",
    "null": "empty",
}
_ITEM_NAMES = {
    "days": "day",
    "dates": "date",
    "exclude_dates": "date",
    "task_values": "task value",
    "on_codes": "completion code",
    "depends_on": "dependency",
    "include": "include",
    "urls": "URL",
    "events": "event",
    "notify": "notification",
}
_USERINFO = re.compile(r"(://)[^/?#@]*@")


def show(value: Any) -> str:
    """A value as a message quotes it: short, and never a URL's user:password."""
    if isinstance(value, (dict, list)):
        return TYPE_NAMES["object" if isinstance(value, dict) else "array"]
    if value is None:
        return "empty"
    if isinstance(value, str):  # a URL's user:password never reaches a message
        value = _USERINFO.sub(r"\1***@", value)
    text = json.dumps(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "...'"


def field(path: Path_) -> str:
    """The innermost key of ``path``, as written."""
    names = [part for part in path if isinstance(part, str)]
    return names[-1] if names else ""


def label(path: Path_) -> str:
    """What the node at ``path`` is called: its key, or what an item of its list is."""
    if not path:
        return "the file"
    name = field(path)  # as written, so that it can be searched for
    if isinstance(path[-1], int):
        return _ITEM_NAMES.get(field(path), f"an item of {name}")
    return name


def owner(data: Any, path: Path_) -> str:
    """`` in job 'X'``: the innermost named thing holding ``path``."""
    holder, node = "", data
    for index, part in enumerate(path):
        parent, node = node, _child(node, part)
        if (
            isinstance(part, int)
            and index
            and path[index - 1] in _OWNERS
            and isinstance(node, dict)
        ):
            name = node.get("name")
            if isinstance(name, str):
                holder = f" in {_OWNERS[path[index - 1]]} '{name}'"
        if node is None and parent is None:
            break
    return holder


def node_at(data: Any, path: Path_) -> Any:
    """The node at ``path`` in ``data``; None where there is none."""
    for part in path:
        data = _child(data, part)
    return data


def _child(node: Any, part: Any) -> Any:
    try:
        return node[part]
    except (KeyError, IndexError, TypeError):
        return None
