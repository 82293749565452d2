"""A quick yes to "is this data valid against the schema?", so that a valid file skips jsonschema.

``jsonschema`` pays for generality on every node it visits (a new validator per subschema, a
registry lookup, the error machinery): about 75 µs a job, most of the cost of validating a large
schedule (issue 16). Nearly every file it sees is valid, and for a valid file it has nothing to
say. ``compile_check(schema)`` turns the schema into plain Python closures that answer one
question: is the instance surely valid? A file they pass has no schema problems; any other file is
validated by ``jsonschema`` as before, which finds and words its errors exactly as always.

The check may say "not valid" of a valid instance (it then costs jsonschema's time, nothing
else), but never "valid" of an invalid one. So it knows only keywords whose meaning it follows
exactly, and only the monotone combinators (``anyOf``, ``allOf``, ``dependentSchemas``: a branch
wrongly refused can only make the whole refused). Any other keyword (``not``, ``oneOf``,
``if``, ``$ref``, ``patternProperties``, ``format``...) or value it does not follow (an ``enum``
of non-text values, ``uniqueItems`` over anything but text and integers) makes its subschema refuse every
instance, which sends the file to jsonschema.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Sized
from typing import Any

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    ("description", "title", "examples", "default", "$comment", "$schema", "$id", "$defs")
)


def _never(instance: Any) -> bool:
    return False


def _always(instance: Any) -> bool:
    return True


def _is_integer(value: Any) -> bool:  # a float such as 1.0 is an integer to jsonschema: refused
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "string": lambda value: isinstance(value, str),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "integer": _is_integer,
    "number": _is_number,
}


def compile_check(schema: Any) -> Check:
    """A function of one instance: True only if ``schema`` surely accepts it."""
    if schema is True:
        return _always
    if not isinstance(schema, dict):
        return _never
    keywords = schema.keys() - _ANNOTATIONS
    if not keywords <= _KEYWORDS.keys():
        return _never
    checks = [_KEYWORDS[keyword](schema[keyword], schema) for keyword in sorted(keywords)]
    return _all_of(checks)


def _all_of(checks: list[Check]) -> Check:
    checks = [check for check in checks if check is not _always]
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if _never in checks:
        return _never

    def all_pass(instance: Any) -> bool:
        return all(check(instance) for check in checks)

    return all_pass


def _type(expected: Any, schema: dict[str, Any]) -> Check:
    names = [expected] if isinstance(expected, str) else expected
    if not isinstance(names, list) or not all(name in _TYPES for name in names):
        return _never
    tests = [_TYPES[name] for name in names]
    if len(tests) == 1:
        return tests[0]
    return lambda instance: any(test(instance) for test in tests)


def _enum(values: Any, schema: dict[str, Any]) -> Check:
    """Text and integers (``version: 1``) only: to jsonschema ``1.0`` is 1 and ``true`` is not:
    an instance that is neither text nor a plain int is refused here."""
    if not isinstance(values, list) or not all(
        isinstance(value, str) or _is_integer(value) for value in values
    ):
        return _never
    allowed = frozenset(values)
    return lambda instance: type(instance) in (str, int) and instance in allowed


def _const(value: Any, schema: dict[str, Any]) -> Check:
    if not isinstance(value, str):
        return _never
    return lambda instance: isinstance(instance, str) and instance == value


def _min_length(limit: Any, schema: dict[str, Any]) -> Check:
    if not _is_integer(limit):
        return _never
    return lambda instance: not isinstance(instance, str) or len(instance) >= limit


def _pattern(expression: Any, schema: dict[str, Any]) -> Check:
    if not isinstance(expression, str):
        return _never
    search = re.compile(expression).search
    return lambda instance: not isinstance(instance, str) or search(instance) is not None


def _minimum(limit: Any, schema: dict[str, Any]) -> Check:
    if not _is_number(limit):
        return _never
    return lambda instance: not _is_number(instance) or instance >= limit


def _maximum(limit: Any, schema: dict[str, Any]) -> Check:
    if not _is_number(limit):
        return _never
    return lambda instance: not _is_number(instance) or instance <= limit


def _count(kind: type[Sized], at_least: bool) -> Callable[[Any, dict[str, Any]], Check]:
    def keyword(limit: Any, schema: dict[str, Any]) -> Check:
        if not _is_integer(limit):
            return _never
        if at_least:
            return lambda instance: not isinstance(instance, kind) or len(instance) >= limit
        return lambda instance: not isinstance(instance, kind) or len(instance) <= limit

    return keyword


def _unique_items(unique: Any, schema: dict[str, Any]) -> Check:
    if unique is False:
        return _always

    def unique_items(instance: Any) -> bool:
        if not isinstance(instance, list):
            return True
        if not all(type(item) in (str, int) for item in instance):
            return False  # floats, booleans, mappings compare in ways not followed here
        return len(set(instance)) == len(instance)

    return unique_items if unique is True else _never


def _items(items: Any, schema: dict[str, Any]) -> Check:
    if "prefixItems" in schema:
        return _never
    check = compile_check(items) if items is not False else None
    if check is _always:
        return _always

    def each(instance: Any) -> bool:
        if not isinstance(instance, list):
            return True
        if check is None:
            return not instance
        return all(check(item) for item in instance)

    return each


def _properties(properties: Any, schema: dict[str, Any]) -> Check:
    """``properties`` and ``additionalProperties`` together: one pass over the mapping."""
    if not isinstance(properties, dict) or "patternProperties" in schema:
        return _never
    known = {name: compile_check(sub) for name, sub in properties.items()}
    extra = schema.get("additionalProperties", True)
    other = None if extra is False else compile_check(extra)

    def each(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return True
        for key, value in instance.items():
            check = known.get(key, other)
            if check is None or not check(value):
                return False
        return True

    return each


def _additional(extra: Any, schema: dict[str, Any]) -> Check:
    if "properties" in schema:
        return _always  # checked with them
    return _properties({}, schema)


def _property_names(names: Any, schema: dict[str, Any]) -> Check:
    check = compile_check(names)
    return lambda instance: not isinstance(instance, dict) or all(check(key) for key in instance)


def _required(names: Any, schema: dict[str, Any]) -> Check:
    if not isinstance(names, list):
        return _never
    return lambda instance: not isinstance(instance, dict) or all(n in instance for n in names)


def _dependent(dependents: Any, schema: dict[str, Any]) -> Check:
    if not isinstance(dependents, dict):
        return _never
    checks = {name: compile_check(sub) for name, sub in dependents.items()}

    def each(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return True
        return all(check(instance) for name, check in checks.items() if name in instance)

    return each


def _any_of(branches: Any, schema: dict[str, Any]) -> Check:
    if not isinstance(branches, list) or not branches:
        return _never
    checks = [compile_check(branch) for branch in branches]
    return lambda instance: any(check(instance) for check in checks)


def _all_of_keyword(branches: Any, schema: dict[str, Any]) -> Check:
    if not isinstance(branches, list) or not branches:
        return _never
    return _all_of([compile_check(branch) for branch in branches])


_KEYWORDS: dict[str, Callable[[Any, dict[str, Any]], Check]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "minLength": _min_length,
    "pattern": _pattern,
    "minimum": _minimum,
    "maximum": _maximum,
    "minItems": _count(list, at_least=True),
    "maxItems": _count(list, at_least=False),
    "minProperties": _count(dict, at_least=True),
    "maxProperties": _count(dict, at_least=False),
    "uniqueItems": _unique_items,
    "items": _items,
    "properties": _properties,
    "additionalProperties": _additional,
    "propertyNames": _property_names,
    "required": _required,
    "dependentSchemas": _dependent,
    "anyOf": _any_of,
    "allOf": _all_of_keyword,
}
