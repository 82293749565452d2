"""Operator actions in the journal: all-or-none, who and when, and a definite answer in the race
with the runner's Start (the runner's ``new_attempt`` and the action share one write lock)."""

from __future__ import annotations

from pathlib import Path

import pytest

from amtflow.errors import StateError, UsageError
from amtflow.operator import OperatorAction, StartWithheld
from amtflow.runs import JobState, RunState
from amtflow.state import Journal
from tests.state.conftest import DATE

HOLD, RELEASE, SKIP, MARK_OK = (
    OperatorAction.HOLD,
    OperatorAction.RELEASE,
    OperatorAction.SKIP,
    OperatorAction.MARK_OK,
)


def _run(journal: Journal) -> str:
    return journal.begin_run("NIGHTLY", DATE, definitions="s.yaml", digest="d").run_id


def test_a_hold_recorded_first_keeps_the_runner_from_recording_the_start(
    journal: Journal, state_dir: Path
) -> None:
    run_id = _run(journal)
    with Journal.open(state_dir) as operator:  # the second terminal: its own connection
        [held] = operator.record_operator_actions(run_id, ["A"], HOLD, "alice")
    assert (held.job, held.action, held.user) == ("A", HOLD, "alice")
    assert held.at.endswith("+00:00")
    with pytest.raises(StartWithheld) as withheld:
        journal.new_attempt(run_id, "A", 1, "task-1")
    assert withheld.value.record == held
    assert "A" not in journal.latest_attempts(run_id)  # nothing recorded: no Start goes out
    with Journal.open(state_dir) as operator:
        operator.record_operator_actions(run_id, ["A"], RELEASE, "alice")
    journal.new_attempt(run_id, "A", 1, "task-1")
    assert journal.latest_attempts(run_id)["A"].state is JobState.STARTING


def test_a_start_recorded_first_makes_hold_and_skip_refused(
    journal: Journal, state_dir: Path
) -> None:
    run_id = _run(journal)
    journal.new_attempt(run_id, "A", 1, "task-1")
    with Journal.open(state_dir) as operator:
        for action in (HOLD, SKIP):
            with pytest.raises(UsageError, match="A of run .* has already started"):
                operator.record_operator_actions(run_id, ["A"], action, "alice")
        assert operator.operator_actions(run_id) == []


def test_actions_on_several_jobs_are_all_recorded_or_none(journal: Journal) -> None:
    run_id = _run(journal)
    journal.new_attempt(run_id, "B", 1, "task-b")
    with pytest.raises(UsageError, match="job B"):
        journal.record_operator_actions(run_id, ["A", "B"], SKIP, "bob")
    assert journal.operator_actions(run_id) == []
    records = journal.record_operator_actions(run_id, ["A", "C"], SKIP, "bob")
    assert [(r.job, r.action) for r in records] == [("A", SKIP), ("C", SKIP)]
    assert journal.operator_actions(run_id, after=records[0].seq) == records[1:]
    with pytest.raises(StartWithheld):
        journal.new_attempt(run_id, "C", 1, "task-c")


def test_mark_ok_needs_a_failed_job_and_stops_a_retry_from_being_recorded(
    journal: Journal,
) -> None:
    run_id = _run(journal)
    journal.new_attempt(run_id, "A", 1, "t1")
    with pytest.raises(UsageError, match=r"did not fail \(starting\)"):
        journal.record_operator_actions(run_id, ["A"], MARK_OK, "carol")
    journal.finish_attempt(run_id, "A", 1, JobState.FAILED, completion_code=11)
    journal.record_operator_actions(run_id, ["A"], MARK_OK, "carol")
    with pytest.raises(UsageError, match="already marked OK by carol"):
        journal.record_operator_actions(run_id, ["A"], MARK_OK, "carol")
    with pytest.raises(StartWithheld):
        journal.new_attempt(run_id, "A", 2, "t2")


def test_release_of_a_job_not_held_and_actions_on_closed_runs_are_refused(
    journal: Journal,
) -> None:
    run_id = _run(journal)
    with pytest.raises(UsageError, match="is not held"):
        journal.record_operator_actions(run_id, ["A"], RELEASE, "dan")
    journal.record_operator_actions(run_id, ["A"], HOLD, "dan")
    with pytest.raises(UsageError, match="already held by dan"):
        journal.record_operator_actions(run_id, ["A"], HOLD, "dan")
    journal.finish_run(run_id, RunState.ABANDONED)
    with pytest.raises(StateError, match="abandoned"):
        journal.record_operator_actions(run_id, ["A"], RELEASE, "dan")
    with pytest.raises(StateError, match="unknown run"):
        journal.record_operator_actions("nope", ["A"], HOLD, "dan")
