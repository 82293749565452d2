"""Which nodes of a definition file are text to AMT, read from the schema.

A field whose schema type is ``["string", "number", "boolean"]`` (application, users, station,
queue, job and script names, task values; inline, as a ``$ref`` costs the validator a lookup per
job) or ``#/$defs/scalar`` (properties, script parameters) is sent to the AMT Batch Server as text, so a plain scalar there keeps exactly what the file says: ``007`` stays
``007``, ``1.50`` stays ``1.50``, ``1e3`` stays ``1e3``. The schema is the one list of them.
"""

from __future__ import annotations

import functools
from typing import Any

from .schema import schema
from .yamlmarks import Path_

TEXT_DEFS = frozenset(("#/$defs/scalar",))
TEXT_TYPE = ["string", "number", "boolean"]
_TEXT, _INDEX, _KEY = object(), object(), object()  # trie markers: a text node, any item, any key

Trie = dict[Any, Any]


def is_text(path: Path_) -> bool:
    """Whether the node at ``path`` of a definition file is text sent to AMT."""
    node: Trie | None = _trie()
    for part in path:
        if node is None:
            return False
        node = node.get(_INDEX) if isinstance(part, int) else node.get(part, node.get(_KEY))
    return node is not None and _TEXT in node


@functools.lru_cache(maxsize=1)
def _trie() -> Trie:
    root: Trie = {}
    _walk(schema(), root, schema().get("$defs", {}), ())
    return root


def _walk(node: Any, trie: Trie, defs: dict[str, Any], refs: tuple[str, ...]) -> None:
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if ref in TEXT_DEFS or node.get("type") == TEXT_TYPE:
        trie[_TEXT] = True
    elif isinstance(ref, str) and ref.startswith("#/$defs/") and ref not in refs:
        _walk(defs.get(ref.removeprefix("#/$defs/")), trie, defs, (*refs, ref))
    for key, child in node.get("properties", {}).items():
        _walk(child, trie.setdefault(key, {}), defs, refs)
    for keyword, marker in (("additionalProperties", _KEY), ("items", _INDEX)):
        if isinstance(node.get(keyword), dict):
            _walk(node[keyword], trie.setdefault(marker, {}), defs, refs)
    for keyword in ("anyOf", "allOf", "oneOf"):
        for branch in node.get(keyword, ()):
            _walk(branch, trie, defs, refs)
    _walk(node.get("then"), trie, defs, refs)
