"""Group commit: the taskIds of the Starts ready in one loop tick are committed in one durable
transaction, and none of those Starts is sent before that commit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from amtflow.batch import JobStatus, StartRequest
from amtflow.engine import Engine
from amtflow.engine.context import NullRecorder, RunContext
from amtflow.engine.launch import TaskIdCommit
from amtflow.errors import StateError
from amtflow.operator import OperatorAction, OperatorRecord, StartWithheld
from amtflow.plan import make_plan
from amtflow.state import Journal
from tests.engine.fake import FakeServer
from tests.engine.test_engine import DATE, FAST, definitions, job

Timeline = list[tuple[str, object]]


class WatchedJournal(Journal):
    """The real journal, telling a shared timeline what each commit of taskIds held."""

    timeline: Timeline

    async def new_attempts_off_loop(
        self, rows: Sequence[tuple[str, str, int, str]]
    ) -> dict[tuple[str, int], OperatorRecord]:
        withheld = await super().new_attempts_off_loop(rows)
        self.timeline.append(("commit", [row[1] for row in rows]))
        return withheld


class WatchedServer(FakeServer):
    timeline: Timeline

    def start(self, request: StartRequest) -> JobStatus:
        self.timeline.append(("start", request.task.name))
        return super().start(request)


async def run_journalled(tmp_path: Path, count: int, slots: int) -> tuple[Timeline, Journal, str]:
    timeline: Timeline = []
    journal = WatchedJournal.open(tmp_path / "state")
    journal.timeline = timeline
    server = WatchedServer()
    server.timeline = timeline
    defs = definitions(*(job(f"J{i:02d}") for i in range(count)), max_concurrent_jobs=slots)
    run = journal.begin_run("NIGHTLY", DATE, definitions="d.yaml", digest="x")
    ctx = RunContext(
        run_id=run.run_id,
        schedule="NIGHTLY",
        date=DATE,
        log_dir=tmp_path / "logs",
        recorder=journal,
        poll=FAST,
    )
    plan = make_plan(defs, defs.schedules["NIGHTLY"], DATE)
    outcomes = await Engine(ctx, plan, defs.agents, {"amt": server.client()}).run()
    assert all(o.ok for o in outcomes.values())
    assert sum(server.starts.values()) == count
    return timeline, journal, run.run_id


async def test_a_wave_of_starts_shares_one_commit_made_before_any_of_them_is_sent(
    tmp_path: Path,
) -> None:
    timeline, journal, run_id = await run_journalled(tmp_path, count=30, slots=10)
    commits = [jobs for kind, jobs in timeline if kind == "commit"]
    assert isinstance(commits[0], list) and len(commits[0]) == 10  # the first wave: one commit
    assert len(commits) < 30  # fewer transactions (fsyncs) than jobs
    committed: set[object] = set()
    for kind, what in timeline:
        if kind == "commit":
            assert isinstance(what, list)
            committed.update(what)
        else:
            assert what in committed, f"{what} was sent before its taskId was committed"
    recorded = journal.latest_attempts(run_id)
    assert sorted(recorded) == [f"J{i:02d}" for i in range(30)]
    assert all(r.task_id and r.state.value == "ok" for r in recorded.values())


async def test_each_start_carries_the_task_id_the_journal_committed(tmp_path: Path) -> None:
    timeline: Timeline = []
    journal = WatchedJournal.open(tmp_path / "state")
    journal.timeline = timeline
    server = WatchedServer()
    server.timeline = timeline
    defs = definitions(*(job(f"J{i}") for i in range(12)), max_concurrent_jobs=5)
    run = journal.begin_run("NIGHTLY", DATE, definitions="d.yaml", digest="x")
    ctx = RunContext(run.run_id, "NIGHTLY", DATE, tmp_path / "logs", recorder=journal, poll=FAST)
    plan = make_plan(defs, defs.schedules["NIGHTLY"], DATE)
    await Engine(ctx, plan, defs.agents, {"amt": server.client()}).run()
    sent = {fake.request.task.name: fake.request.task_id for fake in server.jobs.values()}
    recorded = {name: r.task_id for name, r in journal.latest_attempts(run.run_id).items()}
    assert sent == recorded


async def test_a_failed_commit_sends_none_of_the_starts_of_its_tick(tmp_path: Path) -> None:
    class FullDisk(NullRecorder):
        def new_attempts(
            self, rows: Sequence[tuple[str, str, int, str]]
        ) -> dict[tuple[str, int], OperatorRecord]:
            raise StateError("state db: database or disk is full")

    server = FakeServer()
    defs = definitions(*(job(f"J{i}") for i in range(6)), max_concurrent_jobs=6)
    ctx = RunContext("r1", "NIGHTLY", DATE, tmp_path / "logs", recorder=FullDisk(), poll=FAST)
    plan = make_plan(defs, defs.schedules["NIGHTLY"], DATE)
    with pytest.raises(StateError, match="disk is full"):
        await Engine(ctx, plan, defs.agents, {"amt": server.client()}).run()
    assert sum(server.starts.values()) == 0


async def test_an_attempt_interrupted_while_its_task_id_is_committed_still_learns_it_is_on_disk() -> (
    None
):
    batches: list[list[str]] = []

    class Batches(NullRecorder):
        def new_attempts(
            self, rows: Sequence[tuple[str, str, int, str]]
        ) -> dict[tuple[str, int], OperatorRecord]:
            batches.append([row[1] for row in rows])
            return {}

    commit = TaskIdCommit(Batches(), "r1")
    tasks = [asyncio.ensure_future(commit.record(name, 1, f"t-{name}")) for name in "ABC"]
    await asyncio.sleep(0)  # each has queued its row; the commit runs in the next tick
    tasks[1].cancel()
    results = await asyncio.gather(*tasks)
    # one transaction for the three; B, interrupted meanwhile, is told so once its row is
    # committed (its Start is then sent and killed, as for an interrupt during the Start)
    assert batches == [["A", "B", "C"]]
    assert results == [False, True, False]
    assert commit.commits == 1


async def test_an_attempt_an_operator_withheld_in_the_commit_is_told_so_and_the_others_go_on(
    tmp_path: Path,
) -> None:
    """Group commit and operator actions meet in one transaction: a job held just before the
    commit of its tick is not recorded and must not be started; the rest of the tick is."""
    journal = Journal.open(tmp_path / "state")
    run_id = journal.begin_run("NIGHTLY", DATE, definitions="s.yaml", digest="d").run_id
    with Journal.open(tmp_path / "state") as operator:  # a second terminal
        held = operator.record_operator_actions(run_id, ["B"], OperatorAction.HOLD, "alice")
    commit = TaskIdCommit(journal, run_id)
    tasks = [asyncio.ensure_future(commit.record(name, 1, f"t-{name}")) for name in "ABC"]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] is False and results[2] is False
    assert isinstance(results[1], StartWithheld) and results[1].record == held[0]
    assert sorted(journal.latest_attempts(run_id)) == ["A", "C"]
    assert commit.commits == 1
    journal.close()


async def test_a_dependent_start_is_sent_only_once_the_end_it_waited_for_is_committed(
    tmp_path: Path,
) -> None:
    """The state changes of a tick share one commit (Journal.grouped), made before the taskIds
    of the next Starts: whoever reads the journal when B's Start arrives sees A ended OK."""
    journal = Journal.open(tmp_path / "state")
    run_id = journal.begin_run("NIGHTLY", DATE, definitions="d.yaml", digest="x").run_id
    read_at_start: dict[str, dict[str, str]] = {}

    class Reading(FakeServer):
        def start(self, request: StartRequest) -> JobStatus:
            with Journal.open(tmp_path / "state", read_only=True) as other:  # another process
                states = {j: a.state.value for j, a in other.latest_attempts(run_id).items()}
            read_at_start[request.task.name] = states
            return super().start(request)

    server = Reading()
    defs = definitions(job("A"), job("B", "A"), job("C", "B"))
    ctx = RunContext(run_id, "NIGHTLY", DATE, tmp_path / "logs", recorder=journal, poll=FAST)
    plan = make_plan(defs, defs.schedules["NIGHTLY"], DATE)
    outcomes = await Engine(ctx, plan, defs.agents, {"amt": server.client()}).run()
    assert all(o.ok for o in outcomes.values())
    assert read_at_start["B"] == {"A": "ok", "B": "starting"}
    assert read_at_start["C"] == {"A": "ok", "B": "ok", "C": "starting"}
    journal.close()
