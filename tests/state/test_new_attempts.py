"""``Journal.new_attempts``: the taskIds of a group of Starts, committed together or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from amtflow.errors import StateError
from amtflow.runs import JobState
from amtflow.state import Journal
from tests.state.conftest import DATE


def test_a_group_of_attempts_is_committed_in_one_go(journal: Journal, state_dir: Path) -> None:
    run = journal.begin_run("NIGHTLY", DATE, definitions="s.yaml", digest="d")
    journal.new_attempts([(run.run_id, f"J{i}", 1, f"task-{i}") for i in range(50)])
    with Journal.open(state_dir) as other:  # another connection sees only what is committed
        attempts = other.latest_attempts(run.run_id)
    assert [attempts[f"J{i}"].task_id for i in range(50)] == [f"task-{i}" for i in range(50)]
    assert {a.state for a in attempts.values()} == {JobState.STARTING}


def test_one_attempt_that_cannot_be_recorded_leaves_none_of_its_group(
    journal: Journal, state_dir: Path
) -> None:
    run = journal.begin_run("NIGHTLY", DATE, definitions="s.yaml", digest="d")
    journal.new_attempt(run.run_id, "B", 1, "task-b")
    rows = [
        (run.run_id, "A", 1, "task-a"),
        (run.run_id, "B", 1, "again"),
        (run.run_id, "C", 1, "c"),
    ]
    with pytest.raises(StateError, match="attempt 1 of job 'B' .* is already recorded"):
        journal.new_attempts(rows)
    with Journal.open(state_dir) as other:
        assert sorted(other.latest_attempts(run.run_id)) == ["B"]
    journal.new_attempts([(run.run_id, "A", 1, "task-a")])  # the journal is still usable
    assert sorted(journal.latest_attempts(run.run_id)) == ["A", "B"]
