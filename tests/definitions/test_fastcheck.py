"""The quick schema check (``fastcheck``) never calls invalid data valid, and lets valid files by.

A file it passes skips jsonschema, so its one promise is checked against jsonschema itself (on
the shipped schema file, ``$ref``s and all): over every definitions file of the repository and
thousands of mutations of them (every node replaced by values of every kind, keys dropped, unknown
keys added), "quick check passes" must imply "jsonschema finds it valid". A check that refused
everything would keep that promise and save nothing: every valid file must pass it too.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from amtflow.definitions.fastcheck import compile_check
from amtflow.definitions.inline import inline_refs
from amtflow.definitions.schema import DEFINITIONS_SCHEMA, PROJECT_SCHEMA, schema
from amtflow.definitions.textfields import is_text
from amtflow.definitions.yamlload import YamlProblem, read_document

from .conftest import DATA, REPO

REPLACEMENTS: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    1,
    2,
    -1,
    1.0,
    1.5,
    "",
    "x",
    "a b",
    "=x",
    "1h",
    "90",
    "12:00",
    "+1 01:00",
    "2026-12-25",
    "batch_job",
    "script",
    "http://h:1",
    [],
    ["x"],
    ["x", "x"],
    [1],
    {},
    {"x": 1},
    {"env": "X"},
)


def _documents() -> list[tuple[str, Any]]:
    found = []
    for path in sorted([*(REPO / "definitions").rglob("*.yaml"), *DATA.rglob("*.yaml")]):
        if "hostile" in path.parts:
            continue
        try:
            found.append((str(path.relative_to(REPO)), read_document(path, is_text).data))
        except YamlProblem:
            continue
    return found


DOCUMENTS = _documents()


def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(name))


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        yield from _paths(child, (*path, key))


def _replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    """``data`` with the node at ``path`` replaced: a copy along the path, the rest shared."""
    if not path:
        return value
    copied = copy.copy(data)
    copied[path[0]] = _replaced(data[path[0]], path[1:], value)
    return copied


def _mutants(data: Any) -> Iterator[Any]:
    for path in _paths(data):
        for value in REPLACEMENTS:
            yield _replaced(data, path, value)
        node = data
        for part in path:
            node = node[part]
        if isinstance(node, dict):
            yield _replaced(data, path, {**node, "unknown_key": 1})
            for key in node:
                yield _replaced(data, path, {k: v for k, v in node.items() if k != key})
        if isinstance(node, list) and node:
            yield _replaced(data, path, [*node, node[0]])


def test_every_valid_definitions_file_passes_the_quick_check() -> None:
    check, validator = compile_check(inline_refs(schema())), _validator(DEFINITIONS_SCHEMA)
    valid = [name for name, data in DOCUMENTS if validator.is_valid(data)]
    assert len(valid) >= 20, valid  # the repository's examples and test data
    assert [name for name, data in DOCUMENTS if validator.is_valid(data) and not check(data)] == []


@pytest.mark.parametrize(
    "name",
    [name for name, _ in DOCUMENTS if "valid" in name.split(os.sep) or "definitions" in name],
)
def test_no_mutation_of_a_file_passes_the_quick_check_that_jsonschema_refuses(name: str) -> None:
    data = dict(DOCUMENTS)[name]
    check, validator = compile_check(inline_refs(schema())), _validator(DEFINITIONS_SCHEMA)
    passed = refused = 0
    for mutant in _mutants(data):
        if check(mutant):
            passed += 1
            assert validator.is_valid(mutant), mutant
        else:
            refused += 1
    assert passed > 0 and refused > 0  # some mutations keep the file valid, others break it


def test_the_project_file_schema_keeps_the_same_promise() -> None:
    check, validator = (
        compile_check(inline_refs(schema(PROJECT_SCHEMA))),
        _validator(PROJECT_SCHEMA),
    )
    base = {"version": 1, "definitions": ["definitions"], "state_dir": ".s", "max_parallel": 10}
    assert validator.is_valid(base) and check(base)
    for mutant in _mutants(base):
        assert not check(mutant) or validator.is_valid(mutant), mutant


@pytest.mark.parametrize(
    ("subschema", "instance"),
    [
        ({"not": {"type": "string"}}, 1),  # not monotone: never followed
        ({"oneOf": [{"type": "string"}]}, "x"),
        ({"$ref": "#/$defs/x"}, "x"),
        ({"format": "date"}, "2026-01-01"),
        ({"patternProperties": {"^x": {}}}, {}),
        ({"properties": {}, "patternProperties": {"^x": {}}}, {"x": 1}),
        ({"prefixItems": [{}], "items": {}}, [1]),
        ({"type": "integer"}, 1.0),  # an integer to jsonschema: refused here, not judged
        ({"enum": [1]}, 1.0),
        ({"enum": [1]}, True),
        ({"enum": [None]}, None),
        ({"const": 1}, 1),
        ({"uniqueItems": True}, [1.5, 2]),
        ({"uniqueItems": True}, [True, 2]),
        ({"type": "nonsense"}, "x"),
    ],
)
def test_what_it_does_not_follow_goes_to_jsonschema(
    subschema: dict[str, Any], instance: Any
) -> None:
    assert compile_check(subschema)(instance) is False


@pytest.mark.parametrize(
    ("subschema", "valid", "invalid"),
    [
        ({"enum": [1]}, 1, "1"),
        ({"enum": ["a", 1]}, "a", True),
        ({"const": "a"}, "a", "b"),
        ({"type": ["string", "number"]}, 1.5, True),
        ({"minLength": 1}, 5, ""),  # only text has a length
        ({"pattern": "^a"}, "ab", "ba"),
        ({"minimum": 1}, "0", 0),
        ({"maximum": 1}, 1, 2),
        ({"uniqueItems": True}, ["a", "b"], ["a", "a"]),
        ({"uniqueItems": True}, [1, "1"], [1, 1]),
        ({"items": False}, [], [1]),
        ({"maxProperties": 1}, {"a": 1}, {"a": 1, "b": 2}),
        ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"ab": 1}, {"A": 1}),
        ({"additionalProperties": {"type": "string"}}, {"a": "b"}, {"a": 1}),
        ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1}, {"b": 1}),
        ({"dependentSchemas": {"a": {"required": ["b"]}}}, {"b": 1}, {"a": 1}),
        ({"anyOf": [{"required": ["a"]}, {"required": ["b"]}]}, {"b": 1}, {"c": 1}),
        ({"allOf": [{"required": ["a"]}, {"required": ["b"]}]}, {"a": 1, "b": 1}, {"a": 1}),
    ],
)
def test_what_it_follows_it_judges_as_jsonschema_does(
    subschema: dict[str, Any], valid: Any, invalid: Any
) -> None:
    check, validator = compile_check(subschema), jsonschema.Draft202012Validator(subschema)
    assert (check(valid), validator.is_valid(valid)) == (True, True)
    assert (check(invalid), validator.is_valid(invalid)) == (False, False)


def test_a_file_it_refuses_still_gets_jsonschemas_words(write: Any) -> None:
    from .conftest import run_cli

    path: Path = write(
        "bad.yaml",
        """\
        version: 1
        schedules:
          - name: S
            jobs:
              - {name: A, task: batch_job, job_name: X, max_run_time: 90}
        """,
    )
    result = run_cli("validate", str(path))
    assert result.exit_code != 0
    assert "max_run_time 90 in job 'A' has no unit: write 90s, 90m or 90h" in result.output
