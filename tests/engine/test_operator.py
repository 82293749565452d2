"""The engine follows an operator's actions while it runs: hold, release, skip, mark OK.

The actions come from an in-memory list standing in for the journal, appended while the run goes.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from amtflow.engine import Engine, JobOutcome
from amtflow.engine.context import JobEvent, RunContext
from amtflow.model import Definitions, Retry
from amtflow.operator import OperatorAction, OperatorRecord
from amtflow.plan import make_plan
from amtflow.runs import JobState
from tests.engine.fake import Behaviour, FakeServer
from tests.engine.test_engine import DATE, FAST, definitions, job, states


class Desk:
    """Operator actions as the journal would give them: in order, after a seq."""

    def __init__(self) -> None:
        self.records: list[OperatorRecord] = []

    def act(self, job: str, action: OperatorAction) -> None:
        seq = len(self.records) + 1
        self.records.append(OperatorRecord(seq, "r1", job, action, "alice", f"t{seq}"))

    def later(self, delay: float, job: str, action: OperatorAction) -> None:
        asyncio.get_running_loop().call_later(delay, self.act, job, action)

    def read(self, after: int) -> list[OperatorRecord]:
        return [r for r in self.records if r.seq > after]


async def run(
    server: FakeServer, defs: Definitions, tmp_path: Path, desk: Desk, interrupt_after: float = 0
) -> tuple[dict[str, JobOutcome], list[tuple[float, JobEvent]]]:
    events: list[tuple[float, JobEvent]] = []
    ctx = RunContext(
        run_id="r1",
        schedule="NIGHTLY",
        date=DATE,
        log_dir=tmp_path / "logs",
        observe=lambda event: events.append((time.monotonic(), event)),
        poll=FAST,
        messages_every=0.0,
        operator_actions=desk.read,
        operator_tick=0.05,
    )
    plan = make_plan(defs, defs.schedules["NIGHTLY"], DATE)
    engine = Engine(ctx, plan, defs.agents, {"amt": server.client()})
    if interrupt_after:
        asyncio.get_running_loop().call_later(interrupt_after, engine.interrupt)
    return await engine.run(), events


def started_at(events: list[tuple[float, JobEvent]], name: str) -> float:
    return next(t for t, e in events if e.job == name and e.state is JobState.STARTING)


async def test_a_held_job_starts_only_once_released(tmp_path: Path) -> None:
    desk = Desk()
    desk.act("B", OperatorAction.HOLD)
    loop_start = time.monotonic()
    desk.later(0.4, "B", OperatorAction.RELEASE)
    outcomes, events = await run(FakeServer(), definitions(job("A"), job("B", "A")), tmp_path, desk)
    assert states(outcomes) == {"A": "ok", "B": "ok"}
    assert started_at(events, "B") - loop_start >= 0.4
    assert any(e.job == "B" and e.reason == "held by alice at t1" for _, e in events)


async def test_a_skipped_job_never_starts_and_its_dependents_run(tmp_path: Path) -> None:
    server = FakeServer()
    desk = Desk()
    desk.act("B", OperatorAction.SKIP)
    defs = definitions(job("A"), job("B", "A"), job("C", "B"))
    outcomes, _ = await run(server, defs, tmp_path, desk)
    assert states(outcomes) == {"A": "ok", "B": "skipped", "C": "ok"}
    assert outcomes["B"].operator is not None and outcomes["B"].acceptable
    assert server.starts == {"A": 1, "C": 1}


async def test_a_skip_while_held_ends_the_hold_without_a_start(tmp_path: Path) -> None:
    server = FakeServer()
    desk = Desk()
    desk.act("B", OperatorAction.HOLD)
    desk.later(0.2, "B", OperatorAction.SKIP)
    outcomes, _ = await run(server, definitions(job("A"), job("B", "A")), tmp_path, desk)
    assert states(outcomes) == {"A": "ok", "B": "skipped"}
    assert server.starts == {"A": 1}


async def test_mark_ok_in_a_live_run_starts_the_jobs_not_run_because_of_it(
    tmp_path: Path,
) -> None:
    server = FakeServer(behaviours={"LOAD": Behaviour(end_code=11), "LONG": Behaviour(0.6)})
    desk = Desk()
    desk.later(0.3, "LOAD", OperatorAction.MARK_OK)
    defs = definitions(job("LONG"), job("LOAD"), job("REPORT", "LOAD"), job("MAIL", "REPORT"))
    outcomes, events = await run(server, defs, tmp_path, desk)
    assert states(outcomes) == {"LONG": "ok", "LOAD": "failed", "REPORT": "ok", "MAIL": "ok"}
    assert all(o.acceptable for o in outcomes.values())
    assert server.starts == {"LONG": 1, "LOAD": 1, "REPORT": 1, "MAIL": 1}
    not_run = [e.job for _, e in events if e.state is JobState.NOT_RUN]
    assert not_run == ["REPORT", "MAIL"]  # first decided not run, then run after the mark-ok


async def test_mark_ok_cuts_a_retry_wait_short(tmp_path: Path) -> None:
    server = FakeServer(behaviours={"FLAKY": Behaviour(end_code=11)})
    desk = Desk()
    desk.later(0.3, "FLAKY", OperatorAction.MARK_OK)
    # an hour's delay: the run ends at all only because the mark-ok cut the wait short (else
    # pytest-timeout fails it), whatever the machine's load; no wall-time threshold to flake
    flaky = job("FLAKY", retry=Retry(attempts=3, delay=3600))
    outcomes, events = await run(server, definitions(flaky, job("AFTER", "FLAKY")), tmp_path, desk)
    assert states(outcomes) == {"FLAKY": "failed", "AFTER": "ok"}
    assert outcomes["FLAKY"].attempts == 1 and outcomes["FLAKY"].operator is not None
    assert any(e.reason == "retry in 3600s, attempt 2 of 4" for _, e in events)
    assert server.starts == {"FLAKY": 1, "AFTER": 1}


async def test_an_interrupted_run_leaves_a_held_job_not_run(tmp_path: Path) -> None:
    server = FakeServer()
    desk = Desk()
    desk.act("B", OperatorAction.HOLD)
    defs = definitions(job("A"), job("B", "A"))
    outcomes, _ = await run(server, defs, tmp_path, desk, interrupt_after=0.3)
    assert states(outcomes) == {"A": "ok", "B": "not_run"}
    assert outcomes["B"].reason == "run interrupted before it started"
    assert server.starts == {"A": 1}
