"""Positions a problem asks for come from reading the file again, and are the same (issue 16).

A valid file keeps the position of its mappings, lists and list items only (a job, a
dependency, an include): what its model needs. The position of a key or of a scalar in a
mapping is worked out the first time one is asked for; it must be where the node stands, as
it was when every position was kept, whatever is asked first.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from amtflow.definitions.textfields import is_text
from amtflow.definitions.yamlload import read_document

from .conftest import REPO, run_cli

TEXT = textwrap.dedent(
    """\
    version: 1
    schedules:
      - name: S
        defaults: {agent: amt, application: DEMO2}
        jobs:
          - name: A
            task: batch_job
            job_name: "A"
            retry: {attempts: 2, delay: 30s}
          - {name: B, task: batch_job, job_name: B, depends_on: [A, {job: A, on: failed}]}
    """
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _paths(child, (*path, index))


def test_a_valid_file_keeps_collections_and_list_items_and_nothing_of_keys(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(TEXT)
    document = read_document(path, is_text)
    assert document.key_positions == {}
    job, dependency = ("schedules", 0, "jobs", 1), ("schedules", 0, "jobs", 1, "depends_on", 0)
    assert document.position(job) == (10, 9)  # kept: no reading again
    assert document.position(dependency) == (10, 62)
    assert document.key_positions == {}
    assert len(document.positions) < len(list(_paths(document.data)))


def test_a_key_or_scalar_asked_for_first_is_where_it_stands(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(TEXT)
    document = read_document(path, is_text)
    assert document.position(("schedules", 0, "jobs", 0, "job_name")) == (8, 19)
    assert document.position(("schedules", 0, "jobs", 0, "job_name"), key=True) == (8, 9)
    assert document.position(("schedules", 0, "jobs", 0, "retry", "delay")) == (9, 37)
    assert document.position(("schedules", 0, "jobs", 1, "task"), key=True) == (10, 19)
    assert document.position(("version",), key=True) == (1, 1)
    assert document.position(("version",)) == (1, 10)
    assert document.position(("schedules", 0, "jobs", 0, "absent")) == (6, 9)  # its mapping's


def test_every_position_is_the_same_whatever_is_asked_first(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(TEXT)
    paths = list(_paths(read_document(path, is_text).data))
    forward, backward = read_document(path, is_text), read_document(path, is_text)
    asked = {p: (forward.position(p), forward.position(p, key=True)) for p in paths}
    for p in reversed(paths):
        assert (backward.position(p, key=True), backward.position(p)) == asked[p][::-1], p


def test_the_file_changed_on_disk_after_reading_does_not_move_positions(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(TEXT)
    document = read_document(path, is_text)
    path.write_text("\n\n\n" + TEXT)  # the positions are those of the text that was read
    assert document.position(("version",), key=True) == (1, 1)


def test_a_problem_at_a_key_or_value_is_shown_at_it(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        TEXT.replace("delay: 30s", "delay: 30").replace(
            "task: batch_job\n", "task: batch_job\n        colour: red\n", 1
        )
    )
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    assert "d.yaml:8:9: error: unknown key 'colour' in job 'A'" in result.output
    assert "d.yaml:10:37: error: delay 30 in job 'A' has no unit" in result.output


def test_a_duplicate_key_names_the_first_ones_line(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(TEXT.replace('job_name: "A"\n', 'job_name: "A"\n        job_name: A2\n'))
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    assert "d.yaml:9:9: error: duplicate key 'job_name' (first at line 8)" in result.output


def test_the_example_definitions_read_with_the_same_positions_either_way() -> None:
    """Every node of the shipped examples, a position and a key position each."""
    for path in sorted((REPO / "definitions").rglob("*.yaml")):
        lazily, eagerly = read_document(path, is_text), read_document(path, is_text)
        eagerly.position(("version",), key=True)  # now it has every position
        assert eagerly.complete and not lazily.complete
        assert len(eagerly.positions) > len(lazily.positions)
        for p in _paths(lazily.data):
            assert lazily.position(p) == eagerly.position(p), (path, p)
