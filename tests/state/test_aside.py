"""``Journal.new_attempts_off_loop``: while a run groups its writes, the taskIds of new Starts are
committed on a worker thread (``state/aside.py``), the event loop going on meanwhile; what was
written before is committed first, what is written meanwhile is held and made after, in order."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from amtflow.errors import StateError
from amtflow.runs import JobState
from amtflow.state import Journal
from amtflow.state.aside import Aside, Withheld
from amtflow.state.connection import companions
from tests.state.test_group import seen, started


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The worker's commits wait until the gate is opened (2 s at most)."""
    opened = threading.Event()
    commit = Aside._commit

    def gated(self: Aside, rows: Sequence[tuple[str, str, int, str]]) -> Withheld:
        assert threading.current_thread() is not threading.main_thread()
        opened.wait(2)
        return commit(self, rows)

    monkeypatch.setattr(Aside, "_commit", gated)
    yield opened
    opened.set()


def workers() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("amtflow-journal")]


async def test_the_loop_goes_on_while_the_worker_commits(
    journal: Journal, state_dir: Path, gate: threading.Event
) -> None:
    run_id = started(journal, "")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    with journal.grouped(asyncio.get_running_loop().call_soon):
        ticking = asyncio.create_task(ticker())
        commit = asyncio.create_task(journal.new_attempts_off_loop([(run_id, "B", 1, "task-B")]))
        await asyncio.sleep(0.1)
        assert not commit.done() and ticks > 10  # the commit waits; the loop does not
        assert seen(state_dir, run_id) == {}
        gate.set()
        assert await commit == {}
        ticking.cancel()
    assert seen(state_dir, run_id) == {"B": JobState.STARTING}


async def test_writes_before_are_committed_first_and_writes_meanwhile_are_held_until_after(
    journal: Journal, state_dir: Path, gate: threading.Event
) -> None:
    run_id = started(journal, "AC")
    with journal.grouped(asyncio.get_running_loop().call_soon):
        journal.finish_attempt(run_id, "A", 1, JobState.OK, completion_code=4)  # before B
        commit = asyncio.create_task(journal.new_attempts_off_loop([(run_id, "B", 1, "task-B")]))
        await asyncio.sleep(0)  # the commit is under way: A's end was committed first
        assert seen(state_dir, run_id) == {"A": JobState.OK, "C": JobState.STARTING}
        journal.set_batch_request_id(run_id, "C", 1, 4711, "C.log")  # meanwhile: held
        journal.finish_attempt(run_id, "C", 1, JobState.FAILED, completion_code=11)
        journal.flag_job(run_id, "C", "late", "after 02:00")
        await asyncio.sleep(0.05)  # a group would have been committed by now; held writes wait
        assert seen(state_dir, run_id)["C"] is JobState.STARTING
        gate.set()
        await commit
        await asyncio.sleep(0)  # the group of the released writes is committed in the next tick
        assert seen(state_dir, run_id) == {
            "A": JobState.OK,
            "B": JobState.STARTING,
            "C": JobState.FAILED,
        }
    with Journal.open(state_dir, read_only=True) as other:
        c = other.latest_attempts(run_id)["C"]
        assert (c.batch_request_id, c.completion_code) == (4711, 11)
        assert other.job_marks(run_id)["C"]["late"][1] == "after 02:00"


async def test_a_commit_that_fails_on_the_worker_fails_its_batch_and_held_writes_are_still_made(
    journal: Journal, state_dir: Path, gate: threading.Event
) -> None:
    run_id = started(journal, "AB")
    with journal.grouped(asyncio.get_running_loop().call_soon):
        commit = asyncio.create_task(
            journal.new_attempts_off_loop([(run_id, "D", 1, "task-D"), (run_id, "B", 1, "again")])
        )
        await asyncio.sleep(0)
        journal.finish_attempt(run_id, "A", 1, JobState.OK, completion_code=4)  # held
        gate.set()
        with pytest.raises(StateError, match="attempt 1 of job 'B' .* is already recorded"):
            await commit
        journal.new_attempts([(run_id, "D", 1, "task-D")])  # the journal goes on
    assert seen(state_dir, run_id) == {
        "A": JobState.OK,
        "B": JobState.STARTING,
        "D": JobState.STARTING,
    }


async def test_leaving_the_group_waits_for_the_commit_under_way_and_makes_the_held_writes(
    journal: Journal, state_dir: Path, gate: threading.Event
) -> None:
    run_id = started(journal, "A")
    with journal.grouped(asyncio.get_running_loop().call_soon):
        commit = asyncio.create_task(journal.new_attempts_off_loop([(run_id, "B", 1, "task-B")]))
        await asyncio.sleep(0)
        journal.finish_attempt(run_id, "A", 1, JobState.FAILED, completion_code=11)  # held
        assert workers()
        threading.Timer(0.05, gate.set).start()
    # the way out waited for the worker: both are committed, the worker is gone
    assert seen(state_dir, run_id) == {"A": JobState.FAILED, "B": JobState.STARTING}
    assert workers() == []
    assert await commit == {}


def test_outside_a_group_the_commit_is_made_at_once_on_the_caller(
    journal: Journal, state_dir: Path
) -> None:
    run_id = started(journal, "")

    async def commit() -> Withheld:
        return dict(await journal.new_attempts_off_loop([(run_id, "B", 1, "task-B")]))

    assert asyncio.run(commit()) == {}
    assert seen(state_dir, run_id) == {"B": JobState.STARTING}
    assert workers() == []


async def test_a_write_that_is_not_grouped_makes_the_held_writes_first(
    journal: Journal, state_dir: Path, gate: threading.Event
) -> None:
    run_id = started(journal, "A")
    with journal.grouped(asyncio.get_running_loop().call_soon):
        commit = asyncio.create_task(journal.new_attempts_off_loop([(run_id, "B", 1, "task-B")]))
        await asyncio.sleep(0)
        journal.finish_attempt(run_id, "A", 1, JobState.OK, completion_code=4)  # held
        journal.new_attempts([(run_id, "C", 1, "task-C")])  # C's Start comes after A's end
        assert seen(state_dir, run_id) == {"A": JobState.OK, "C": JobState.STARTING}
        gate.set()
        await commit
    assert seen(state_dir, run_id)["B"] is JobState.STARTING


def test_a_group_without_new_attempts_starts_no_worker(journal: Journal, state_dir: Path) -> None:
    run_id = started(journal, "A")
    with journal.grouped(lambda callback: None):
        journal.finish_attempt(run_id, "A", 1, JobState.OK, completion_code=4)
        assert workers() == []
    assert seen(state_dir, run_id) == {"A": JobState.OK}


async def test_a_journal_removed_under_a_run_is_not_made_again_empty_by_the_worker(
    journal: Journal, state_dir: Path
) -> None:
    run_id = started(journal, "")
    with journal.grouped(asyncio.get_running_loop().call_soon):
        for path in (journal.path, *companions(journal.path)):
            path.unlink(missing_ok=True)
        with pytest.raises(StateError, match=f"state db {journal.path}: cannot open it"):
            await journal.new_attempts_off_loop([(run_id, "B", 1, "task-B")])
    assert sorted(path.name for path in state_dir.iterdir() if "journal" in path.name) == []
