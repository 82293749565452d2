from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from amtflow.engine import Engine
from amtflow.engine.context import JobEvent, RunContext
from amtflow.engine.polling import PollPolicy
from amtflow.model import (
    Agent,
    BatchUser,
    Communication,
    Condition,
    Definitions,
    Dependency,
    MasterJob,
    Retry,
    Schedule,
    SecretRef,
)
from amtflow.plan import make_plan
from amtflow.runs import JobOutcome, JobState
from amtflow.task import AmtTask, TaskType
from tests.engine.fake import Behaviour, FakeServer

DATE = dt.date(2026, 11, 24)
FAST = PollPolicy(first=0.005, factor=1.5, cap=0.02)


def job(name: str, *deps: str | Dependency, **fields: object) -> MasterJob:
    depends = tuple(d if isinstance(d, Dependency) else Dependency(d) for d in deps)
    task = AmtTask(TaskType.BATCH_JOB, "DEMO2", name)
    return MasterJob(name=name, task=task, agent="amt", depends_on=depends, **fields)  # type: ignore[arg-type]


def definitions(*jobs: MasterJob, **agent_fields: object) -> Definitions:
    agent = Agent(
        name="amt", batch_server_url="http://127.0.0.1:1", batch_user="api", **agent_fields
    )  # type: ignore[arg-type]
    return Definitions(
        batch_users={"api": BatchUser("api", "OPCONAPI", SecretRef(env="PW"))},
        agents={"amt": agent},
        schedules={"NIGHTLY": Schedule("NIGHTLY", tuple(jobs))},
    )


async def run(
    server: FakeServer,
    defs: Definitions,
    tmp_path: Path,
    *,
    max_parallel: int = 50,
    interrupt_after: float | None = None,
) -> tuple[dict[str, JobOutcome], list[JobEvent]]:
    events: list[JobEvent] = []
    plan = make_plan(defs, defs.schedules["NIGHTLY"], DATE)
    ctx = RunContext(
        run_id="r1",
        schedule="NIGHTLY",
        date=DATE,
        log_dir=tmp_path / "logs",
        observe=events.append,
        poll=FAST,
        messages_every=0.0,
        kill_grace=1.0,
    )
    engine = Engine(ctx, plan, defs.agents, {"amt": server.client()}, max_parallel=max_parallel)
    if interrupt_after is not None:
        asyncio.get_running_loop().call_later(interrupt_after, engine.interrupt)
    return await engine.run(), events


def states(outcomes: dict[str, JobOutcome]) -> dict[str, str]:
    return {name: o.state.value for name, o in outcomes.items()}


async def test_chain_runs_in_dependency_order_and_each_job_starts_once(tmp_path: Path) -> None:
    server = FakeServer()
    outcomes, events = await run(
        server, definitions(job("A"), job("B", "A"), job("C", "B")), tmp_path
    )
    assert states(outcomes) == {"A": "ok", "B": "ok", "C": "ok"}
    assert server.starts == {"A": 1, "B": 1, "C": 1}
    started = [e.job for e in events if e.state is JobState.STARTING]
    assert started == ["A", "B", "C"]
    assert all(o.completion_code == 4 and o.attempts == 1 for o in outcomes.values())


async def test_failure_stops_dependents_and_triggers_recovery(tmp_path: Path) -> None:
    server = FakeServer(behaviours={"LOAD": Behaviour(end_code=11)})
    defs = definitions(
        job("LOAD"),
        job("REPORT", "LOAD"),
        job("MAIL", "REPORT"),
        job("RECOVER", Dependency("LOAD", Condition.FAILED)),
        job("CLEANUP", Dependency("LOAD", Condition.FINISHED)),
    )
    outcomes, _ = await run(server, defs, tmp_path)
    assert states(outcomes) == {
        "LOAD": "failed",
        "REPORT": "not_run",
        "MAIL": "not_run",
        "RECOVER": "ok",
        "CLEANUP": "ok",
    }
    assert outcomes["LOAD"].completion_code == 11
    assert outcomes["REPORT"].reason == "depends on LOAD ending OK; it ended failed"
    assert outcomes["MAIL"].reason == "depends on REPORT, which was not run"
    assert "REPORT" not in server.starts and "MAIL" not in server.starts


async def test_recovery_job_is_not_run_when_its_job_succeeds(tmp_path: Path) -> None:
    server = FakeServer()
    defs = definitions(job("LOAD"), job("RECOVER", Dependency("LOAD", Condition.FAILED)))
    outcomes, _ = await run(server, defs, tmp_path)
    assert states(outcomes) == {"LOAD": "ok", "RECOVER": "skipped"}
    assert outcomes["RECOVER"].reason == "runs only if LOAD fails; it ended OK"


async def test_a_skipped_recovery_branch_does_not_fail_the_run(tmp_path: Path) -> None:
    server = FakeServer()
    defs = definitions(
        job("LOAD"),
        job("RECOVER", Dependency("LOAD", Condition.FAILED)),
        job("NOTIFY", "RECOVER"),
        job("DAYEND", Dependency("RECOVER", Condition.FINISHED)),
    )
    outcomes, _ = await run(server, defs, tmp_path)
    assert states(outcomes) == {
        "LOAD": "ok",
        "RECOVER": "skipped",
        "NOTIFY": "skipped",
        "DAYEND": "ok",
    }
    assert outcomes["NOTIFY"].reason == "depends on RECOVER, which was skipped"
    assert all(o.state.acceptable for o in outcomes.values())


async def test_agent_limit_bounds_jobs_running_at_once(tmp_path: Path) -> None:
    server = FakeServer(behaviours={f"J{i}": Behaviour(duration=0.05) for i in range(8)})
    defs = definitions(*(job(f"J{i}") for i in range(8)), max_concurrent_jobs=2)
    outcomes, _ = await run(server, defs, tmp_path)
    assert all(o.ok for o in outcomes.values())
    assert server.peak_running == 2


async def test_max_parallel_bounds_jobs_running_at_once(tmp_path: Path) -> None:
    server = FakeServer(behaviours={f"J{i}": Behaviour(duration=0.05) for i in range(8)})
    outcomes, _ = await run(
        server, definitions(*(job(f"J{i}") for i in range(8))), tmp_path, max_parallel=3
    )
    assert all(o.ok for o in outcomes.values())
    assert server.peak_running == 3


async def test_retry_reruns_a_failed_job_with_a_new_task_id_and_log(tmp_path: Path) -> None:
    server = FakeServer(behaviours={"FLAKY": Behaviour(end_code=11)})
    defs = definitions(job("FLAKY", retry=Retry(attempts=2, delay=0.01, on_codes=frozenset({11}))))
    outcomes, _ = await run(server, defs, tmp_path)
    assert outcomes["FLAKY"].state is JobState.FAILED
    assert outcomes["FLAKY"].attempts == 3
    assert server.starts["FLAKY"] == 3
    assert len(server.by_task) == 3  # a fresh taskId each attempt
    logs = sorted((tmp_path / "logs").rglob("FLAKY.*.log"))
    assert len(logs) == 3


async def test_retry_only_on_listed_codes(tmp_path: Path) -> None:
    server = FakeServer(behaviours={"FLAKY": Behaviour(end_code=12)})
    defs = definitions(job("FLAKY", retry=Retry(attempts=2, on_codes=frozenset({11}))))
    outcomes, _ = await run(server, defs, tmp_path)
    assert outcomes["FLAKY"].attempts == 1 and server.starts["FLAKY"] == 1


async def test_max_run_time_kills_an_overrunning_job(tmp_path: Path) -> None:
    server = FakeServer(behaviours={"LONG": Behaviour(duration=30)})
    defs = definitions(job("LONG", max_run_time=0.05), allow_kill_job=True)
    outcomes, _ = await run(server, defs, tmp_path)
    assert outcomes["LONG"].state is JobState.KILLED
    assert outcomes["LONG"].completion_code == 3
    assert "max run time" in outcomes["LONG"].reason
    assert len(server.kills) == 1


async def test_max_run_time_without_kill_permission_fails_without_killing(tmp_path: Path) -> None:
    server = FakeServer(behaviours={"LONG": Behaviour(duration=30)})
    outcomes, _ = await run(server, definitions(job("LONG", max_run_time=0.05)), tmp_path)
    assert outcomes["LONG"].state is JobState.FAILED
    assert "does not allow kill" in outcomes["LONG"].reason
    assert server.kills == []


async def test_disabled_agent_runs_nothing(tmp_path: Path) -> None:
    server = FakeServer()
    defs = definitions(job("A"), communication=Communication.DISABLED)
    outcomes, _ = await run(server, defs, tmp_path)
    assert outcomes["A"].state is JobState.NOT_RUN
    assert "communication disabled" in outcomes["A"].reason
    assert not server.starts


async def test_start_that_exhausts_the_retry_budget_fails_with_code_23(tmp_path: Path) -> None:
    server = FakeServer(fail_starts={"A"})
    outcomes, _ = await run(server, definitions(job("A"), job("B", "A")), tmp_path)
    assert outcomes["A"].state is JobState.FAILED
    assert outcomes["A"].completion_code == 23
    assert outcomes["B"].state is JobState.NOT_RUN


async def test_a_job_the_server_forgot_ends_undefined_and_is_not_restarted(tmp_path: Path) -> None:
    server = FakeServer(behaviours={"A": Behaviour(duration=0.2)})

    async def forget() -> None:
        await asyncio.sleep(0.05)
        server.jobs.clear()

    forgetting = asyncio.ensure_future(forget())
    outcomes, _ = await run(server, definitions(job("A")), tmp_path)
    await forgetting
    assert outcomes["A"].completion_code == 19
    assert outcomes["A"].state is JobState.FAILED
    assert server.starts["A"] == 1
    log = Path(outcomes["A"].log_path or "").read_text()
    assert "no longer knows this job" in log


async def test_interrupt_kills_running_jobs_and_skips_the_rest(tmp_path: Path) -> None:
    server = FakeServer(behaviours={"LONG": Behaviour(duration=30)})
    defs = definitions(job("LONG"), job("AFTER", "LONG"), allow_kill_job=True)
    outcomes, _ = await run(server, defs, tmp_path, interrupt_after=0.05)
    assert outcomes["LONG"].state is JobState.KILLED
    assert outcomes["AFTER"].state is JobState.NOT_RUN
    assert len(server.kills) == 1


async def test_interrupt_without_kill_permission_leaves_the_job_running(tmp_path: Path) -> None:
    server = FakeServer(behaviours={"LONG": Behaviour(duration=30)})
    outcomes, _ = await run(server, definitions(job("LONG")), tmp_path, interrupt_after=0.05)
    assert outcomes["LONG"].state is JobState.RUNNING
    assert server.kills == []


async def test_job_log_holds_each_message_once(tmp_path: Path) -> None:
    server = FakeServer(behaviours={"A": Behaviour(duration=0.1, messages=("one", "two", "three"))})
    outcomes, _ = await run(server, definitions(job("A")), tmp_path)
    text = Path(outcomes["A"].log_path or "").read_text()
    for message in ("one", "two", "three"):
        assert text.count(f'"{message}"') == 1
    assert "Completion Code : DONE (4)" in text


@pytest.mark.parametrize("count", [300])
async def test_many_jobs_in_waves_all_end(tmp_path: Path, count: int) -> None:
    jobs = [job(f"J{i}", *([f"J{i - 50}"] if i >= 50 else [])) for i in range(count)]
    server = FakeServer(behaviours={f"J{i}": Behaviour(duration=0.0) for i in range(count)})
    outcomes, _ = await run(server, definitions(*jobs, max_concurrent_jobs=100), tmp_path)
    assert sum(o.ok for o in outcomes.values()) == count
    assert sum(server.starts.values()) == count


async def test_a_journal_failure_stops_the_run_cleanly(tmp_path: Path) -> None:
    from amtflow.engine.context import NullRecorder
    from amtflow.errors import StateError

    class FailingRecorder(NullRecorder):
        def set_batch_request_id(
            self, run_id: str, job: str, attempt: int, batch_request_id: int, log_path: str
        ) -> None:
            if job == "B":
                raise StateError("cannot write the journal: disk full")

    server = FakeServer(behaviours={"A": Behaviour(duration=5), "B": Behaviour(duration=0.05)})
    defs = definitions(job("A"), job("B"), allow_kill_job=True)
    plan = make_plan(defs, defs.schedules["NIGHTLY"], DATE)
    ctx = RunContext(
        run_id="r1",
        schedule="NIGHTLY",
        date=DATE,
        log_dir=tmp_path / "logs",
        recorder=FailingRecorder(),
        poll=FAST,
        kill_grace=1.0,
    )
    engine = Engine(ctx, plan, defs.agents, {"amt": server.client()})
    with pytest.raises(StateError, match="disk full"):
        await engine.run()
    assert not engine.tasks
    assert len(server.kills) == 1  # A, still running, was killed like on an interrupt
    pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert pending == []


async def test_resuming_an_unanswered_start_reuses_its_task_id_and_restarts_a_torn_log(
    tmp_path: Path,
) -> None:
    from amtflow.runs import JobRunRecord

    server = FakeServer()
    defs = definitions(job("A"))
    plan = make_plan(defs, defs.schedules["NIGHTLY"], DATE)
    first = server.start(start_request("A", "task-1"))  # the server got the first Start
    torn = tmp_path / "logs" / "NIGHTLY" / "2026-11-24" / f"A.{first.batch_request_id}.log"
    torn.parent.mkdir(parents=True)
    torn.write_text("")  # killed between creating the log and writing its header
    record = JobRunRecord(
        run_id="r1", job="A", attempt=1, task_id="task-1", state=JobState.STARTING
    )
    ctx = RunContext(
        run_id="r1",
        schedule="NIGHTLY",
        date=DATE,
        log_dir=tmp_path / "logs",
        poll=FAST,
        messages_every=0.0,
    )
    outcomes = await Engine(
        ctx, plan, defs.agents, {"amt": server.client()}, resume={"A": record}
    ).run()
    assert outcomes["A"].state is JobState.OK
    assert server.starts["A"] == 1
    assert sorted(p.name for p in torn.parent.iterdir()) == [torn.name]
    assert "Completion Code : DONE (4)" in torn.read_text()


def start_request(name: str, task_id: str):  # type: ignore[no-untyped-def]
    from amtflow.batch import StartRequest

    return StartRequest(task_id, AmtTask(TaskType.BATCH_JOB, "DEMO2", name))


async def test_an_interrupt_before_jobs_take_their_first_step_leaves_them_not_run(
    tmp_path: Path,
) -> None:
    server = FakeServer()
    defs = definitions(job("A"), job("B"), job("C", "A"))
    plan = make_plan(defs, defs.schedules["NIGHTLY"], DATE)
    ctx = RunContext(
        run_id="r1", schedule="NIGHTLY", date=DATE, log_dir=tmp_path / "logs", poll=FAST
    )
    engine = Engine(ctx, plan, defs.agents, {"amt": server.client()})
    asyncio.get_running_loop().call_soon(engine.interrupt)  # before the tasks' first step
    outcomes = await engine.run()
    assert states(outcomes) == {"A": "not_run", "B": "not_run", "C": "not_run"}
    assert outcomes["A"].reason == "run interrupted before it started"
    assert not server.starts
