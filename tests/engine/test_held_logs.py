"""When a job's log reaches the disk: once the job is seen running (then as messages arrive), or,
for a job that has ended by the first look, once, finished; resume begins a log never begun."""

from __future__ import annotations

import asyncio
from pathlib import Path

from amtflow.engine import Engine
from amtflow.engine.context import RunContext
from amtflow.plan import make_plan
from amtflow.runs import JobOutcome, JobRunRecord, JobState
from amtflow.state import Journal
from tests.engine.fake import Behaviour, FakeServer
from tests.engine.test_engine import DATE, FAST, definitions, job, run, start_request


def logs_of(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "logs").rglob("*.log"))


async def run_journaled(
    server: FakeServer, name: str, tmp_path: Path
) -> tuple[Journal, str, dict[str, JobOutcome]]:
    """Job ``name`` run by the engine with a journal in ``tmp_path/state``, left open to read;
    the journal, the run's id and the outcomes."""
    journal = Journal.open(tmp_path / "state")
    run_id = journal.begin_run("NIGHTLY", DATE, definitions="d.yaml", digest="x").run_id
    defs = definitions(job(name))
    ctx = RunContext(run_id, "NIGHTLY", DATE, tmp_path / "logs", recorder=journal, poll=FAST)
    plan = make_plan(defs, defs.schedules["NIGHTLY"], DATE)
    outcomes = await Engine(ctx, plan, defs.agents, {"amt": server.client()}).run()
    return journal, run_id, outcomes


async def test_a_job_seen_running_has_its_running_log_on_disk_while_it_runs(
    tmp_path: Path,
) -> None:
    server = FakeServer({"LONG": Behaviour(duration=0.6, messages=("step 1", "done"))})
    running = asyncio.ensure_future(run(server, definitions(job("LONG")), tmp_path))
    for _ in range(200):  # until the first message is read (messages_every=0: each look)
        await asyncio.sleep(0.01)
        if logs_of(tmp_path) and '"step 1"' in logs_of(tmp_path)[0].read_text():
            break
    [log] = logs_of(tmp_path)
    assert "Completion Code : RUNNING (2)" in log.read_text().splitlines()
    outcomes, _ = await running
    assert outcomes["LONG"].state is JobState.OK and outcomes["LONG"].log_path == str(log)
    assert log.read_text().splitlines()[-3:] == ['"step 1"', '"done"', "-" * 75]


async def test_a_job_ended_by_the_first_look_gets_its_log_once_finished(tmp_path: Path) -> None:
    server = FakeServer({"QUICK": Behaviour(duration=0.0, end_code=11, messages=("boom",))})
    journal, run_id, outcomes = await run_journaled(server, "QUICK", tmp_path)
    [log] = logs_of(tmp_path)
    lines = log.read_text().splitlines()
    assert "Completion Code : ERROR (11)" in lines
    assert lines[-3:] == ['"boom"', "amtflow: ended ERROR (11)", "-" * 75]
    recorded = journal.latest_attempts(run_id)["QUICK"]
    assert recorded.log_path == str(log) == outcomes["QUICK"].log_path
    assert recorded.last_seq == 1  # the seq of the message now on disk
    journal.close()


async def test_a_held_log_whose_name_is_taken_is_recorded_where_it_was_written(
    tmp_path: Path,
) -> None:
    server = FakeServer({"QUICK": Behaviour(duration=0.0)})
    taken = tmp_path / "logs" / "NIGHTLY" / "2026-11-24" / f"QUICK.{server.next_id + 1}.log"
    taken.parent.mkdir(parents=True)
    taken.write_text("an earlier run's log\n")
    journal, run_id, outcomes = await run_journaled(server, "QUICK", tmp_path)
    written = taken.with_name(f"QUICK.{server.next_id}~2.log")
    assert taken.read_text() == "an earlier run's log\n"
    assert "Completion Code : DONE (4)" in written.read_text()
    assert journal.latest_attempts(run_id)["QUICK"].log_path == str(written)
    assert outcomes["QUICK"].log_path == str(written)
    journal.close()


async def test_resume_begins_the_log_of_a_job_the_dead_runner_never_saw_running(
    tmp_path: Path,
) -> None:
    server = FakeServer({"A": Behaviour(duration=0.0, messages=("one", "two"))})
    first = server.start(start_request("A", "task-1"))  # started, answered, then the runner died
    never_begun = tmp_path / "logs" / "NIGHTLY" / "2026-11-24" / f"A.{first.batch_request_id}.log"
    record = JobRunRecord(
        "r1",
        "A",
        1,
        "task-1",
        JobState.RUNNING,
        first.batch_request_id,
        log_path=str(never_begun),
    )
    defs = definitions(job("A"))
    ctx = RunContext("r1", "NIGHTLY", DATE, tmp_path / "logs", poll=FAST, messages_every=0.0)
    plan = make_plan(defs, defs.schedules["NIGHTLY"], DATE)
    engine = Engine(ctx, plan, defs.agents, {"amt": server.client()}, resume={"A": record})
    outcomes = await engine.run()
    assert outcomes["A"].state is JobState.OK and server.starts["A"] == 1
    lines = never_begun.read_text().splitlines()
    assert lines[-3:] == ['"one"', '"two"', "-" * 75] and "Completion Code : DONE (4)" in lines


async def test_a_job_left_running_by_an_interrupt_keeps_a_running_log(tmp_path: Path) -> None:
    server = FakeServer({"LONG": Behaviour(duration=30.0)})
    outcomes, _ = await run(
        server, definitions(job("LONG"), allow_kill_job=False), tmp_path, interrupt_after=0.2
    )
    assert outcomes["LONG"].state is JobState.RUNNING
    [log] = logs_of(tmp_path)
    lines = log.read_text().splitlines()
    assert "Completion Code : RUNNING (2)" in lines and lines[-1] != "-" * 75
    assert any("does not allow kill" in line for line in lines)
