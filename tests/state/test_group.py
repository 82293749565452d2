"""``Journal.grouped``: the per-job state writes of one loop tick share one commit, made by the
scheduled callback or by any other write first; a commit that fails stops every later write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from amtflow.errors import StateError
from amtflow.runs import JobState, RunState
from amtflow.state import Journal
from tests.state.conftest import DATE

Callback = Callable[[], None]


def seen(state_dir: Path, run_id: str) -> dict[str, JobState]:
    """The attempts another process would read now: only what is committed."""
    with Journal.open(state_dir, read_only=True) as other:
        return {job: a.state for job, a in other.latest_attempts(run_id).items()}


def started(journal: Journal, jobs: str) -> str:
    run_id = journal.begin_run("NIGHTLY", DATE, definitions="s.yaml", digest="d").run_id
    journal.new_attempts([(run_id, job, 1, f"task-{job}") for job in jobs])
    return run_id


def test_the_writes_of_a_tick_are_committed_together_by_its_callback(
    journal: Journal, state_dir: Path
) -> None:
    run_id = started(journal, "ABC")
    scheduled: list[Callback] = []
    with journal.grouped(scheduled.append):
        for number, job in enumerate("ABC"):
            journal.set_batch_request_id(run_id, job, 1, 4280 + number, f"{job}.log")
            journal.finish_attempt(run_id, job, 1, JobState.OK, completion_code=4)
        journal.mark_not_run(run_id, "D", "depends on C, which was not run")
        assert len(scheduled) == 1  # one commit for the tick
        assert set(seen(state_dir, run_id).values()) == {JobState.STARTING}  # not yet
        scheduled.pop()()
        assert seen(state_dir, run_id) == {
            "A": JobState.OK,
            "B": JobState.OK,
            "C": JobState.OK,
            "D": JobState.NOT_RUN,
        }
        journal.set_last_seq(run_id, "A", 1, 7)  # the next tick opens the next group
        assert len(scheduled) == 1
    with Journal.open(state_dir, read_only=True) as other:  # committed on the way out
        assert other.latest_attempts(run_id)["A"].last_seq == 7


def test_any_other_write_commits_the_open_group_first(journal: Journal, state_dir: Path) -> None:
    run_id = started(journal, "A")
    with journal.grouped(lambda callback: None):  # a callback that never comes
        journal.finish_attempt(run_id, "A", 1, JobState.OK, completion_code=4)
        journal.new_attempts([(run_id, "B", 1, "task-B")])  # B's Start comes after A's end
        assert seen(state_dir, run_id) == {"A": JobState.OK, "B": JobState.STARTING}
        journal.finish_attempt(run_id, "B", 1, JobState.FAILED, completion_code=11)
        journal.finish_run(run_id, RunState.FAILED)
        assert seen(state_dir, run_id)["B"] is JobState.FAILED


def test_outside_a_group_each_write_is_committed_at_once(journal: Journal, state_dir: Path) -> None:
    run_id = started(journal, "A")
    journal.finish_attempt(run_id, "A", 1, JobState.OK, completion_code=4)
    assert seen(state_dir, run_id) == {"A": JobState.OK}


def test_a_write_refused_in_a_group_says_so_at_once_and_the_group_goes_on(
    journal: Journal, state_dir: Path
) -> None:
    run_id = started(journal, "A")
    scheduled: list[Callback] = []
    with journal.grouped(scheduled.append):
        with pytest.raises(StateError, match="unknown attempt 1 of job 'X'"):
            journal.finish_attempt(run_id, "X", 1, JobState.OK, completion_code=4)
        journal.finish_attempt(run_id, "A", 1, JobState.OK, completion_code=4)
        scheduled.pop()()
    assert seen(state_dir, run_id) == {"A": JobState.OK}


def test_a_commit_that_fails_is_raised_by_every_later_write_and_at_the_end(
    journal: Journal, state_dir: Path
) -> None:
    run_id = started(journal, "AB")
    scheduled: list[Callback] = []
    with pytest.raises(StateError, match="cannot commit the run's state changes.*FOREIGN KEY"):
        with journal.grouped(scheduled.append):
            journal.finish_attempt(run_id, "A", 1, JobState.OK, completion_code=4)
            # a row only the commit can refuse: its run is unknown, checked at COMMIT
            journal._conn.execute("PRAGMA defer_foreign_keys = ON")
            journal.mark_not_run("no-such-run", "X", "refused at commit")
            scheduled.pop()()  # the callback itself never raises: the loop goes on
            with pytest.raises(StateError, match="cannot commit the run's state changes"):
                journal.finish_attempt(run_id, "B", 1, JobState.OK, completion_code=4)
            with pytest.raises(StateError, match="cannot commit the run's state changes"):
                journal.new_attempts([(run_id, "C", 1, "task-C")])
    assert seen(state_dir, run_id) == {"A": JobState.STARTING, "B": JobState.STARTING}


# Grouped writes in an event loop, printing each job once the loop has gone round (its group
# committed by the callback); killed at some point, never closed.
_WRITER = """
import asyncio, datetime, sys
from pathlib import Path
from amtflow.runs import JobState
from amtflow.state import Journal

async def main():
    journal = Journal.open(Path(sys.argv[1]))
    run = journal.begin_run("NIGHTLY", datetime.date(2026, 11, 24), definitions="", digest="")
    print(run.run_id, flush=True)
    with journal.grouped(asyncio.get_running_loop().call_soon):
        n = 0
        while True:
            jobs = [f"J{n + i}" for i in range(5)]
            n += 5
            journal.new_attempts([(run.run_id, job, 1, f"task-{job}") for job in jobs])
            for job in jobs:
                journal.set_batch_request_id(run.run_id, job, 1, 4000 + int(job[1:]), "x.log")
                journal.finish_attempt(run.run_id, job, 1, JobState.OK, completion_code=4)
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            print(" ".join(jobs), flush=True)

asyncio.run(main())
"""


def test_sigkill_loses_no_state_change_of_a_tick_the_loop_has_gone_past(state_dir: Path) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(state_dir)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    run_id = writer.stdout.readline().strip()
    reported = [job for _ in range(20) for job in writer.stdout.readline().split()]
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=10)
    assert writer.returncode == -signal.SIGKILL

    with Journal.open(state_dir) as journal:
        stored = journal.latest_attempts(run_id)
    assert len(reported) == 100
    for job in reported:
        assert stored[job].state is JobState.OK and stored[job].completion_code == 4
        assert stored[job].batch_request_id == 4000 + int(job[1:])
