"""The schema as the validator reads it: local ``$ref``s replaced by what they point at.

``jsonschema`` resolves a ``$ref`` on every visit (a registry lookup and a new sub-resource), so a
schedule of 10,000 jobs paid 10,000 lookups for ``items: {$ref: "#/$defs/job"}`` alone, and more
for each duration and time of day in them. The validator is given a copy in which every
``{"$ref": "#/$defs/NAME"}`` whose other keys are annotations only (``description``) is the
definition itself: the same rules, so the same errors at the same instance paths. A ``$ref`` with
validating siblings, a recursive one, or one that does not point into ``$defs`` stays as written.
The shipped schema file is unchanged: editors and ``check-jsonschema`` read it as it is.
"""

from __future__ import annotations

from typing import Any

_ANNOTATIONS = frozenset(("$ref", "description", "title", "examples", "$comment"))
_PREFIX = "#/$defs/"
# keywords whose value is data, not subschemas: never rewritten
_DATA_KEYWORDS = frozenset(("enum", "const", "required", "examples", "default", "$defs"))


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` with its local, annotation-only ``$ref``s replaced by their targets."""
    defs = schema.get("$defs", {})
    inlined = _inline(schema, defs, ())
    assert isinstance(inlined, dict)
    return inlined


def _inline(node: Any, defs: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if _inlinable(ref, node, defs, seen):
        name = str(ref).removeprefix(_PREFIX)
        target = _inline(defs[name], defs, (*seen, str(ref)))
        notes = {key: value for key, value in node.items() if key != "$ref"}
        return {**target, **notes}
    return {
        key: value if key in _DATA_KEYWORDS else _inline(value, defs, seen)
        for key, value in node.items()
    }


def _inlinable(ref: Any, node: dict[str, Any], defs: dict[str, Any], seen: tuple[str, ...]) -> bool:
    return (
        isinstance(ref, str)
        and ref.startswith(_PREFIX)
        and ref not in seen
        and isinstance(defs.get(ref.removeprefix(_PREFIX)), dict)
        and node.keys() <= _ANNOTATIONS
    )
