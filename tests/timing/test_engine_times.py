"""The engine keeps time windows on a clock the test controls: starts after start_time, missed
latest starts while a dependency runs, late while waiting, an interrupt during a wait."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path

from amtflow.engine import Engine
from amtflow.engine.context import JobEvent, JobFlag, NullRecorder, RunContext
from amtflow.engine.polling import PollPolicy
from amtflow.model import Definitions, MasterJob
from amtflow.plan import make_plan
from amtflow.runs import JobOutcome, JobState
from amtflow.timeofday import parse_time
from tests.engine.fake import Behaviour, FakeServer
from tests.engine.test_engine import DATE, definitions, job

FAST = PollPolicy(first=0.005, factor=1.5, cap=0.02)
# the clock starts 0.3 s before 06:00:00 UTC on the schedule date
BASE = dt.datetime.combine(DATE, dt.time(6), dt.timezone.utc) - dt.timedelta(seconds=0.3)


class Marks(NullRecorder):
    def __init__(self) -> None:
        self.flags: list[tuple[str, str, str]] = []

    def flag_job(self, run_id: str, job: str, flag: str, detail: str = "") -> None:
        self.flags.append((job, flag, detail))


async def run(
    server: FakeServer, defs: Definitions, tmp_path: Path, *, interrupt_once_ok: str | None = None
) -> tuple[dict[str, JobOutcome], list[JobEvent], Marks, dict[str, float]]:
    """Run ``defs`` on ``server``; ``interrupt_once_ok``: interrupt the run (as Ctrl-C does) as
    soon as that job has ended OK, however long a loaded machine took to get there."""
    events: list[JobEvent] = []
    marks = Marks()
    started = time.monotonic()
    starts: dict[str, float] = {}
    engines: list[Engine] = []

    def observe(event: JobEvent) -> None:
        events.append(event)
        if event.state is JobState.STARTING:
            starts[event.job] = time.monotonic() - started
        if event.job == interrupt_once_ok and event.state is JobState.OK:
            asyncio.get_running_loop().call_soon(engines[0].interrupt)

    ctx = RunContext(
        run_id="r1",
        schedule="NIGHTLY",
        date=DATE,
        log_dir=tmp_path / "logs",
        recorder=marks,
        observe=observe,
        poll=FAST,
        messages_every=0.0,
        kill_grace=1.0,
        now=lambda: BASE + dt.timedelta(seconds=time.monotonic() - started),
    )
    plan = make_plan(defs, defs.schedules["NIGHTLY"], DATE)
    engine = Engine(ctx, plan, defs.agents, {"amt": server.client()})
    engines.append(engine)
    return await engine.run(), events, marks, starts


def timed(name: str, *deps: str, **times: str) -> MasterJob:
    return job(name, *deps, **{key: parse_time(value) for key, value in times.items()})


async def test_a_job_waits_for_its_start_time_and_says_so(tmp_path: Path) -> None:
    defs = definitions(timed("TIMED", start_time="06:00"), job("FREE"))
    outcomes, events, marks, starts = await run(FakeServer(), defs, tmp_path)
    assert outcomes["TIMED"].state is JobState.OK
    assert starts["TIMED"] >= 0.3 > starts["FREE"]
    waiting = [e for e in events if e.flag is JobFlag.WAITING]
    assert [(e.job, e.state, e.reason) for e in waiting] == [
        ("TIMED", JobState.PENDING, "waiting until 06:00")
    ]
    assert marks.flags == [("TIMED", "waiting", "2026-11-24T06:00:00+00:00")]


async def test_a_latest_start_passing_while_a_dependency_runs_means_not_run(tmp_path: Path) -> None:
    server = FakeServer(behaviours={"FIRST": Behaviour(duration=0.5)})
    defs = definitions(
        job("FIRST"),
        timed("SECOND", "FIRST", latest_start="06:00"),
        job("THIRD", "SECOND"),
    )
    outcomes, events, marks, _ = await run(server, defs, tmp_path)
    assert outcomes["FIRST"].state is JobState.OK
    assert (outcomes["SECOND"].state, outcomes["SECOND"].reason) == (
        JobState.NOT_RUN,
        "missed its latest start 06:00",
    )
    assert outcomes["THIRD"].reason == "depends on SECOND, which was not run"
    assert "SECOND" not in server.starts
    missed = [e for e in events if e.flag is JobFlag.MISSED_START]
    assert [(e.job, e.state) for e in missed] == [("SECOND", JobState.NOT_RUN)]
    assert ("SECOND", "missed_start", "missed its latest start 06:00") in marks.flags


async def test_late_is_flagged_for_a_job_still_waiting_or_running_and_it_goes_on(
    tmp_path: Path,
) -> None:
    server = FakeServer(behaviours={"LONG": Behaviour(duration=0.6)})
    defs = definitions(
        timed("LONG", deadline="06:00"),
        timed("AFTER", "LONG", deadline="06:00"),
        timed("QUICK", deadline="06:00"),
        timed("LATER", deadline="+1 00:00"),
    )
    outcomes, events, marks, _ = await run(server, defs, tmp_path)
    assert {name: o.state for name, o in outcomes.items()} == dict.fromkeys(outcomes, JobState.OK)
    assert {name for name, o in outcomes.items() if o.late} == {"LONG", "AFTER"}
    assert outcomes["LONG"].late == "not ended by its deadline 06:00"
    late = {e.job: e.state for e in events if e.flag is JobFlag.LATE}
    assert late == {"LONG": JobState.RUNNING, "AFTER": JobState.PENDING}
    assert sorted(job for job, flag, _ in marks.flags if flag == "late") == ["AFTER", "LONG"]


async def test_an_interrupt_while_waiting_leaves_the_job_not_run(tmp_path: Path) -> None:
    server = FakeServer()
    defs = definitions(timed("TOMORROW", start_time="+1 06:00"), job("NOW"))
    outcomes, _, _, _ = await run(server, defs, tmp_path, interrupt_once_ok="NOW")
    assert outcomes["TOMORROW"].state is JobState.NOT_RUN
    assert outcomes["TOMORROW"].reason == "run interrupted before it started"
    assert "TOMORROW" not in server.starts
    assert outcomes["NOW"].state is JobState.OK


async def test_a_journal_failure_when_flagging_late_ends_the_run_with_it(tmp_path: Path) -> None:
    import pytest

    from amtflow.errors import StateError

    class Broken(Marks):
        def flag_job(self, run_id: str, job: str, flag: str, detail: str = "") -> None:
            raise StateError("state db: disk full")

    defs = definitions(timed("LATE", deadline="06:00"))
    server = FakeServer(behaviours={"LATE": Behaviour(duration=0.5)})
    ctx = RunContext(
        run_id="r1",
        schedule="NIGHTLY",
        date=DATE,
        log_dir=tmp_path / "logs",
        recorder=Broken(),
        poll=FAST,
        now=lambda: BASE + dt.timedelta(seconds=1),
    )
    engine = Engine(
        ctx, make_plan(defs, defs.schedules["NIGHTLY"], DATE), defs.agents, {"amt": server.client()}
    )
    with pytest.raises(StateError, match="disk full"):
        await engine.run()
