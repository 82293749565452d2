from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from amtflow.errors import StateError
from amtflow.runs import JobState, RunState
from amtflow.state import Journal, default_state_dir, new_run_id
from tests.state.conftest import DATE


def test_new_attempt_commits_the_task_id_as_starting_with_no_batch_request_id(
    journal: Journal, state_dir: Path
) -> None:
    run = journal.begin_run("NIGHTLY", DATE, definitions="s.yaml", digest="d")
    journal.new_attempt(run.run_id, "REPORTTEST01", 1, "6f1c2a1e-task")
    with Journal.open(state_dir) as other:  # another connection: only committed data is visible
        attempt = other.latest_attempts(run.run_id)["REPORTTEST01"]
    assert attempt.task_id == "6f1c2a1e-task"
    assert attempt.state is JobState.STARTING
    assert attempt.batch_request_id is None
    assert attempt.started_at is not None and attempt.ended_at is None


def test_batch_request_id_makes_the_attempt_running(journal: Journal, state_dir: Path) -> None:
    run = journal.begin_run("NIGHTLY", DATE, definitions="s.yaml", digest="d")
    journal.new_attempt(run.run_id, "A", 1, "t1")
    journal.set_batch_request_id(run.run_id, "A", 1, 4280, "logs/A.4280.log")
    with Journal.open(state_dir) as other:
        attempt = other.latest_attempts(run.run_id)["A"]
    assert (attempt.state, attempt.batch_request_id, attempt.log_path) == (
        JobState.RUNNING,
        4280,
        "logs/A.4280.log",
    )


def test_reopen_after_close_sees_a_whole_run(state_dir: Path) -> None:
    with Journal.open(state_dir) as journal:
        run = journal.begin_run("NIGHTLY", DATE, definitions="defs/n.yaml", digest="abc123")
        journal.new_attempt(run.run_id, "A", 1, "t1")
        journal.set_batch_request_id(run.run_id, "A", 1, 4280, "a1.log")
        journal.set_last_seq(run.run_id, "A", 1, 17)
        journal.finish_attempt(
            run.run_id, "A", 1, JobState.FAILED, completion_code=11, reason="ended with ERROR"
        )
        journal.new_attempt(run.run_id, "A", 2, "t2")
        journal.set_batch_request_id(run.run_id, "A", 2, 4281, "a2.log")
        journal.finish_attempt(run.run_id, "A", 2, JobState.OK, completion_code=4)
        journal.mark_not_run(run.run_id, "B", "dependency A failed")
        journal.finish_run(run.run_id, RunState.FAILED)
    with Journal.open(state_dir) as journal:
        stored = journal.run(run.run_id)
        attempts = journal.job_runs(run.run_id)
        latest = journal.latest_attempts(run.run_id)
    assert (stored.state, stored.definitions, stored.digest, stored.date) == (
        RunState.FAILED,
        "defs/n.yaml",
        "abc123",
        "2026-11-24",
    )
    assert stored.ended_at is not None and stored.pid is not None
    assert [(a.job, a.attempt, a.state) for a in attempts] == [
        ("A", 1, JobState.FAILED),
        ("A", 2, JobState.OK),
        ("B", 0, JobState.NOT_RUN),
    ]
    assert (attempts[0].completion_code, attempts[0].last_seq, attempts[0].reason) == (
        11,
        17,
        "ended with ERROR",
    )
    assert latest["A"].attempt == 2 and latest["A"].batch_request_id == 4281
    assert (latest["B"].task_id, latest["B"].reason) == ("", "dependency A failed")


def test_timestamps_are_iso_utc_with_zone(journal: Journal) -> None:
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    run = journal.begin_run("NIGHTLY", DATE, definitions="", digest="")
    after = dt.datetime.now(dt.timezone.utc)
    started = dt.datetime.fromisoformat(run.started_at)
    assert started.utcoffset() == dt.timedelta(0)
    assert before <= started <= after  # the moment it began, in UTC (no wall-time threshold)


def test_run_id_is_readable_unique_and_sanitised(journal: Journal) -> None:
    ids = {
        journal.begin_run("NIGHT/../ly run", DATE, definitions="", digest="").run_id
        for _ in range(50)
    }
    assert len(ids) == 50
    for run_id in ids:
        assert re.fullmatch(r"\d{8}T\d{6}-NIGHT_ly_run-[0-9a-f]{4}", run_id), run_id
    fixed = dt.datetime(2026, 11, 24, 6, 0, 1, tzinfo=dt.timezone.utc)
    assert new_run_id("NIGHTLY", fixed).startswith("20261124T060001-NIGHTLY-")


def test_runs_are_newest_first_and_limited(journal: Journal) -> None:
    made = [journal.begin_run(f"S{i}", DATE, definitions="", digest="").run_id for i in range(5)]
    assert [run.run_id for run in journal.runs()] == made[::-1]
    assert [run.run_id for run in journal.runs(limit=2)] == [made[4], made[3]]


def test_run_accepts_a_unique_prefix(journal: Journal) -> None:
    nightly = journal.begin_run("NIGHTLY", DATE, definitions="", digest="")
    weekly = journal.begin_run("WEEKLY", DATE, definitions="", digest="")
    assert journal.run(nightly.run_id[:-2]).run_id == nightly.run_id
    with pytest.raises(StateError, match="is ambiguous: it matches") as caught:
        journal.run(nightly.run_id[:8])
    assert nightly.run_id in str(caught.value) and weekly.run_id in str(caught.value)


def test_unknown_run_is_a_clear_state_error(journal: Journal) -> None:
    with pytest.raises(StateError, match=r"^unknown run 'nope'$"):
        journal.run("nope")
    with pytest.raises(StateError, match="unknown run 'nope'"):
        journal.finish_run("nope", RunState.OK)
    with pytest.raises(StateError, match="unknown run 'nope'"):
        journal.new_attempt("nope", "A", 1, "t")


def test_updates_of_an_unrecorded_attempt_fail_loudly(journal: Journal) -> None:
    run = journal.begin_run("NIGHTLY", DATE, definitions="", digest="")
    with pytest.raises(StateError, match="unknown attempt 1 of job 'A'"):
        journal.set_batch_request_id(run.run_id, "A", 1, 4280, "a.log")
    with pytest.raises(StateError, match="unknown attempt 3 of job 'A'"):
        journal.finish_attempt(run.run_id, "A", 3, JobState.OK, completion_code=4)


def test_an_attempt_is_recorded_once(journal: Journal) -> None:
    run = journal.begin_run("NIGHTLY", DATE, definitions="", digest="")
    journal.new_attempt(run.run_id, "A", 1, "t1")
    with pytest.raises(StateError, match="attempt 1 of job 'A' .* already recorded"):
        journal.new_attempt(run.run_id, "A", 1, "t1-again")
    assert journal.latest_attempts(run.run_id)["A"].task_id == "t1"


def test_finish_attempt_needs_a_finished_state(journal: Journal) -> None:
    run = journal.begin_run("NIGHTLY", DATE, definitions="", digest="")
    journal.new_attempt(run.run_id, "A", 1, "t1")
    with pytest.raises(ValueError, match="finished state"):
        journal.finish_attempt(run.run_id, "A", 1, JobState.RUNNING, completion_code=None)


def test_last_seq_never_goes_back(journal: Journal) -> None:
    run = journal.begin_run("NIGHTLY", DATE, definitions="", digest="")
    journal.new_attempt(run.run_id, "A", 1, "t1")
    journal.set_last_seq(run.run_id, "A", 1, 40)
    journal.set_last_seq(run.run_id, "A", 1, 12)
    assert journal.latest_attempts(run.run_id)["A"].last_seq == 40


def test_the_end_of_an_attempt_records_its_last_seq_in_the_same_write(journal: Journal) -> None:
    run = journal.begin_run("NIGHTLY", DATE, definitions="", digest="")
    for job in ("A", "B", "C"):
        journal.new_attempt(run.run_id, job, 1, f"t-{job}")
    journal.set_last_seq(run.run_id, "B", 1, 40)
    journal.set_last_seq(run.run_id, "C", 1, 9)
    journal.finish_attempt(run.run_id, "A", 1, JobState.OK, completion_code=4, last_seq=7)
    journal.finish_attempt(run.run_id, "B", 1, JobState.OK, completion_code=4, last_seq=12)
    journal.finish_attempt(run.run_id, "C", 1, JobState.OK, completion_code=4)
    latest = journal.latest_attempts(run.run_id)
    assert [latest[job].last_seq for job in "ABC"] == [7, 40, 9]  # never back, None keeps it


def test_reopen_run_marks_it_running_under_this_process(journal: Journal) -> None:
    run = journal.begin_run("NIGHTLY", DATE, definitions="", digest="")
    journal.finish_run(run.run_id, RunState.INTERRUPTED)
    reopened = journal.reopen_run(run.run_id)
    assert (reopened.state, reopened.ended_at) == (RunState.RUNNING, None)


def test_a_closed_journal_raises_state_error(state_dir: Path) -> None:
    journal = Journal.open(state_dir)
    journal.close()
    with pytest.raises(StateError):
        journal.runs()


def test_default_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AMTFLOW_STATE_DIR", raising=False)
    assert default_state_dir() == Path(".amtflow")
    monkeypatch.setenv("AMTFLOW_STATE_DIR", str(tmp_path / "elsewhere"))
    assert default_state_dir() == tmp_path / "elsewhere"


def test_not_run_recorded_again_updates_its_reason(journal: Journal) -> None:
    run = journal.begin_run("NIGHTLY", DATE, definitions="", digest="")
    journal.mark_not_run(run.run_id, "B", "dependency A failed")
    journal.mark_not_run(run.run_id, "B", "dependency A failed again")
    assert [(r.job, r.reason) for r in journal.job_runs(run.run_id)] == [
        ("B", "dependency A failed again")
    ]


def test_begin_run_under_a_run_id_taken_beforehand(journal: Journal) -> None:
    run_id = new_run_id("NIGHTLY")
    assert journal.begin_run("NIGHTLY", DATE, definitions="", digest="", run_id=run_id).run_id == (
        run_id
    )
    assert journal.run(run_id).schedule == "NIGHTLY"
    with pytest.raises(StateError, match=f"run '{run_id}' is already recorded"):
        journal.begin_run("NIGHTLY", DATE, definitions="", digest="", run_id=run_id)
