"""Another process holds the journal's write lock (``state/busy.py``): a run's grouped writes are
held, in order, and made from the loop once it lets go; the taskIds of new Starts and the run's
end wait for them; one warning line while it lasts, one when it is over. Anything else gives up
after the busy timeout, in one line."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from amtflow.errors import StateError
from amtflow.runs import JobState, RunState
from amtflow.state import Journal, busy, schema
from amtflow.state.connection import journal_path
from tests.state.test_group import seen, started


class Holder:
    """Another connection (as another process's would be) that takes the write lock."""

    def __init__(self, state_dir: Path) -> None:
        self.conn = sqlite3.connect(
            journal_path(state_dir), isolation_level=None, check_same_thread=False
        )

    def take(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def let_go(self) -> None:
        self.conn.execute("COMMIT")


@pytest.fixture
def holder(state_dir: Path, journal: Journal) -> Iterator[Holder]:
    held = Holder(state_dir)
    yield held
    if held.conn.in_transaction:
        held.let_go()
    held.conn.close()


@pytest.fixture
def said(journal: Journal, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the journal says about the lock, with a warning delay of 0.3 s."""
    monkeypatch.setattr(busy, "WARN_AFTER_S", 0.3)
    lines: list[str] = []
    journal.lock_watch.say = lines.append
    return lines


async def test_grouped_writes_are_held_while_another_holds_the_lock_then_made_in_order(
    journal: Journal, state_dir: Path, holder: Holder, said: list[str]
) -> None:
    run_id = started(journal, "AB")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    with journal.grouped(asyncio.get_running_loop().call_soon):
        ticking = asyncio.create_task(ticker())
        holder.take()
        began = time.monotonic()
        journal.set_batch_request_id(run_id, "A", 1, 4711, "A.log")
        journal.finish_attempt(run_id, "A", 1, JobState.OK, completion_code=4)
        journal.set_batch_request_id(run_id, "B", 1, 4712, "B.log")
        assert time.monotonic() - began < 1  # the loop did not wait out a busy timeout
        await asyncio.sleep(0.6)
        assert ticks > 50  # ... and goes on meanwhile
        assert len(said) == 1 and str(journal.path) in said[0]
        assert "waiting for another process's write lock" in said[0]
        assert seen(state_dir, run_id) == {"A": JobState.STARTING, "B": JobState.STARTING}
        holder.let_go()
        expected = {"A": JobState.OK, "B": JobState.RUNNING}
        for _ in range(30):  # the loop's next try (every RETRY_S) makes them
            await asyncio.sleep(0.1)
            if seen(state_dir, run_id) == expected:
                break
        assert seen(state_dir, run_id) == expected
        assert len(said) == 2 and "let go" in said[1]
        ticking.cancel()
    assert journal.latest_attempts(run_id)["A"].batch_request_id == 4711


async def test_new_starts_wait_for_the_held_writes_and_the_lock(
    journal: Journal, state_dir: Path, holder: Holder, said: list[str]
) -> None:
    run_id = started(journal, "A")
    with journal.grouped(asyncio.get_running_loop().call_soon):
        holder.take()
        journal.finish_attempt(run_id, "A", 1, JobState.OK, completion_code=4)  # held
        commit = asyncio.create_task(journal.new_attempts_off_loop([(run_id, "B", 1, "task-B")]))
        await asyncio.sleep(1.2)
        assert not commit.done()  # no Start may go before its taskId is committed
        assert seen(state_dir, run_id) == {"A": JobState.STARTING}
        holder.let_go()
        assert await asyncio.wait_for(commit, 5) == {}
        # A's end, written before B's taskId, was committed with it or before
        assert seen(state_dir, run_id) == {"A": JobState.OK, "B": JobState.STARTING}
    assert len(said) == 2


async def test_the_worker_waits_out_a_lock_taken_while_it_commits(
    journal: Journal, state_dir: Path, holder: Holder, said: list[str]
) -> None:
    run_id = started(journal, "")
    with journal.grouped(asyncio.get_running_loop().call_soon):
        holder.take()  # the worker meets it (its own busy timeout: 1 s a try)
        commit = asyncio.create_task(journal.new_attempts_off_loop([(run_id, "B", 1, "task-B")]))
        journal.flag_job(run_id, "B", "late")  # held while the worker commits
        await asyncio.sleep(1.5)
        assert not commit.done()
        holder.let_go()
        assert await asyncio.wait_for(commit, 5) == {}
    assert seen(state_dir, run_id) == {"B": JobState.STARTING}
    assert "late" in journal.job_marks(run_id)["B"]
    assert len(said) == 2 and "let go" in said[1]


def test_the_runs_end_waits_for_the_lock_instead_of_failing(
    journal: Journal, state_dir: Path, holder: Holder, said: list[str]
) -> None:
    run_id = started(journal, "A")
    scheduled: list[object] = []
    with journal.grouped(scheduled.append):
        journal.finish_attempt(run_id, "A", 1, JobState.OK, completion_code=4)
    journal._pragma("busy_timeout = 100")  # each try waits 0.1 s, not 10: the warning comes
    holder.take()
    timer = threading.Timer(1.0, holder.let_go)  # another thread: this one waits
    timer.start()
    began = time.monotonic()
    journal.finish_run(run_id, RunState.OK)
    assert time.monotonic() - began >= 0.9
    timer.join()
    assert journal.run(run_id).state is RunState.OK
    assert len(said) == 2


def test_a_write_outside_a_run_gives_up_in_one_line(
    journal: Journal, holder: Holder, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = started(journal, "A")
    journal._pragma("busy_timeout = 200")  # the 10 s of BUSY_TIMEOUT_S, shortened
    holder.take()
    with pytest.raises(StateError) as raised:
        journal.finish_run(run_id, RunState.OK)
    message = str(raised.value)
    assert message.startswith(f"state db {journal.path}: ")
    assert "another process has held its write lock" in message and "\n" not in message


def test_a_journal_to_bring_up_to_date_under_anothers_lock_says_so_in_one_line(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Journal.open(state_dir).close()
    with sqlite3.connect(journal_path(state_dir)) as older:
        older.execute("PRAGMA user_version = 4")  # one migration step behind
    holder = Holder(state_dir)
    holder.take()
    monkeypatch.setattr(schema, "BUSY_TIMEOUT_S", 0.2)
    try:
        with pytest.raises(StateError) as raised:
            Journal.open(state_dir)
    finally:
        holder.let_go()
    message = str(raised.value)
    assert message.startswith(f"state db {journal_path(state_dir)}: cannot bring it up to date: ")
    assert "another process has held its write lock" in message
    assert "not a usable amtflow journal" not in message
