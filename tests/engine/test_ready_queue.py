"""Jobs ready to start wait as names until their agent has room: a run holds a task per job in
flight, not per job of the run, and the limits, waits outside the slots and interrupts behave as
before (issue 16: 100,000 ready jobs made 100,000 tasks, ~190 MB)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from pathlib import Path

from amtflow.batch import JobStatus, StartRequest
from amtflow.engine import Engine
from amtflow.engine.context import JobEvent, JobFlag, RunContext
from amtflow.model import Definitions, MasterJob, Retry, Schedule
from amtflow.operator import OperatorAction
from amtflow.plan import make_plan
from amtflow.runs import JobOutcome, JobState
from amtflow.timeofday import parse_time
from tests.engine.fake import Behaviour, FakeClient, FakeServer
from tests.engine.test_engine import DATE, FAST, definitions, job
from tests.engine.test_operator import Desk


class CountingClient(FakeClient):
    """Notes, at each Start, which job it is and how many asyncio tasks are alive."""

    def __init__(self, server: FakeServer) -> None:
        super().__init__(server)
        self.started: list[tuple[str, float]] = []
        self.most_tasks = 0

    async def start(self, request: StartRequest) -> JobStatus:
        self.most_tasks = max(self.most_tasks, len(asyncio.all_tasks()))
        self.started.append((request.task.name, time.monotonic()))
        return await super().start(request)


async def run(
    defs: Definitions,
    tmp_path: Path,
    clients: dict[str, CountingClient],
    *,
    max_parallel: int = 50,
    events: list[JobEvent] | None = None,
    now: dt.datetime | None = None,
    interrupt_after: float | None = None,
    desk: Desk | None = None,
) -> dict[str, JobOutcome]:
    started = time.monotonic()
    ctx = RunContext(
        run_id="r1",
        schedule="NIGHTLY",
        date=DATE,
        log_dir=tmp_path / "logs",
        observe=(events if events is not None else []).append,
        poll=FAST,
        messages_every=0.0,
        kill_grace=1.0,
        operator_actions=(desk or Desk()).read,
        operator_tick=0.05,
        **(
            {"now": lambda: now + dt.timedelta(seconds=time.monotonic() - started)}
            if now is not None
            else {}
        ),  # type: ignore[arg-type]
    )
    plan = make_plan(defs, defs.schedules["NIGHTLY"], DATE)
    engine = Engine(ctx, plan, defs.agents, dict(clients), max_parallel=max_parallel)
    if interrupt_after is not None:
        asyncio.get_running_loop().call_later(interrupt_after, engine.interrupt)
    return await engine.run()


def two_agents(narrow: list[MasterJob], wide: list[MasterJob]) -> Definitions:
    """Agent ``amt`` runs one job at a time, agent ``wide`` ten; ``narrow`` jobs come first."""
    base = definitions(max_concurrent_jobs=1)
    agents = {
        "amt": base.agents["amt"],
        "wide": dataclasses.replace(base.agents["amt"], name="wide", max_concurrent_jobs=10),
    }
    jobs = tuple(narrow) + tuple(dataclasses.replace(j, agent="wide") for j in wide)
    return dataclasses.replace(
        base, agents=agents, schedules={"NIGHTLY": Schedule("NIGHTLY", jobs)}
    )


async def test_a_run_holds_tasks_for_the_jobs_in_flight_not_for_every_job(
    tmp_path: Path,
) -> None:
    server = FakeServer()
    client = CountingClient(server)
    defs = definitions(*(job(f"J{i:03d}") for i in range(400)), max_concurrent_jobs=5)
    outcomes = await run(defs, tmp_path, {"amt": client})
    assert sum(o.ok for o in outcomes.values()) == 400
    assert server.peak_running <= 5
    # the test's own task, and for each of the five jobs with room its task and its Start's
    # (400 job tasks before)
    assert client.most_tasks <= 1 + 2 * 5 + 1
    assert [name for name, _ in client.started] == [f"J{i:03d}" for i in range(400)]


async def test_an_agent_with_room_does_not_wait_behind_another_agents_queue(
    tmp_path: Path,
) -> None:
    server = FakeServer(behaviours={f"N{i}": Behaviour(duration=0.1) for i in range(5)})
    clients = {"amt": CountingClient(server), "wide": CountingClient(server)}
    defs = two_agents([job(f"N{i}") for i in range(5)], [job(f"W{i}") for i in range(10)])
    outcomes = await run(defs, tmp_path, clients)
    assert all(o.ok for o in outcomes.values())
    narrow = [at for _, at in clients["amt"].started]
    wide = [at for _, at in clients["wide"].started]
    assert len(narrow) == 5 and len(wide) == 10
    assert max(wide) < narrow[1]  # all ten started while the first narrow job ran


async def test_max_parallel_bounds_jobs_across_agents(tmp_path: Path) -> None:
    server = FakeServer(behaviours={f"W{i}": Behaviour(duration=0.05) for i in range(30)})
    clients = {"amt": CountingClient(server), "wide": CountingClient(server)}
    defs = two_agents([job(f"N{i}") for i in range(3)], [job(f"W{i}") for i in range(30)])
    outcomes = await run(defs, tmp_path, clients, max_parallel=4)
    assert all(o.ok for o in outcomes.values())
    assert server.peak_running == 4


async def test_a_retry_wait_leaves_room_for_the_next_job(tmp_path: Path) -> None:
    server = FakeServer(behaviours={"FLAKY": Behaviour(duration=0.0, end_code=11)})
    client = CountingClient(server)
    flaky = job("FLAKY", retry=Retry(attempts=1, delay=0.5))
    defs = definitions(flaky, job("NEXT"), max_concurrent_jobs=1)
    outcomes = await run(defs, tmp_path, {"amt": client})
    assert (outcomes["FLAKY"].state, outcomes["FLAKY"].attempts) == (JobState.FAILED, 2)
    assert outcomes["NEXT"].ok
    assert [name for name, _ in client.started] == ["FLAKY", "NEXT", "FLAKY"]


async def test_a_job_waiting_for_its_start_time_says_so_at_once_and_takes_no_room(
    tmp_path: Path,
) -> None:
    server = FakeServer(behaviours={f"J{i}": Behaviour(duration=0.05) for i in range(4)})
    client = CountingClient(server)
    later = job("LATER", start_time=parse_time("06:00"))
    defs = definitions(*(job(f"J{i}") for i in range(4)), later, max_concurrent_jobs=1)
    events: list[JobEvent] = []
    before_six = dt.datetime.combine(DATE, dt.time(6), dt.timezone.utc) - dt.timedelta(seconds=1)
    outcomes = await run(defs, tmp_path, {"amt": client}, events=events, now=before_six)
    assert all(o.ok for o in outcomes.values())
    said = [(e.job, e.flag) for e in events if e.flag or e.state.finished]
    assert said[0] == ("LATER", JobFlag.WAITING)  # before any job ended, not when room came
    assert [name for name, _ in client.started] == ["J0", "J1", "J2", "J3", "LATER"]


async def test_a_job_held_while_it_waits_for_room_lets_the_next_one_start(
    tmp_path: Path,
) -> None:
    server = FakeServer(behaviours={"FIRST": Behaviour(duration=0.4)})
    client = CountingClient(server)
    desk = Desk()
    desk.later(0.05, "HELD", OperatorAction.HOLD)  # while FIRST runs and HELD waits for room
    desk.later(0.8, "HELD", OperatorAction.RELEASE)
    defs = definitions(job("FIRST"), job("HELD"), job("NEXT"), max_concurrent_jobs=1)
    outcomes = await run(defs, tmp_path, {"amt": client}, desk=desk)
    assert all(o.ok for o in outcomes.values())
    assert [name for name, _ in client.started] == ["FIRST", "NEXT", "HELD"]


async def test_an_interrupt_leaves_the_jobs_waiting_for_room_not_run(tmp_path: Path) -> None:
    server = FakeServer(behaviours={f"J{i:02d}": Behaviour(duration=30) for i in range(50)})
    client = CountingClient(server)
    defs = definitions(
        *(job(f"J{i:02d}") for i in range(50)), max_concurrent_jobs=2, allow_kill_job=True
    )
    outcomes = await run(defs, tmp_path, {"amt": client}, interrupt_after=0.2)
    killed = {name for name, o in outcomes.items() if o.state is JobState.KILLED}
    assert killed == {"J00", "J01"}
    rest = [o for name, o in outcomes.items() if name not in killed]
    assert len(rest) == 48
    assert {(o.state, o.reason) for o in rest} == {
        (JobState.NOT_RUN, "run interrupted before it started")
    }
    assert [name for name, _ in client.started] == ["J00", "J01"]
