"""How soon amtflow sees a job end, and how many status requests that costs, against the vendor
connector's fixed policy (first look after 10 s, then every 5 s).

Two parts, both printed:
1. Measured: 1 s and 10 s jobs run through the real engine and client against the simulator on
   loopback; the delay is the time between the job's end on the server and the engine's ending
   event, and the requests are the MonitorJob calls the simulator received for that job.
2. Modelled: for 1 s, 10 s, 60 s and 600 s jobs, both policies played against a simulated clock
   (request latency ignored), so the long jobs take no real time.

    python bench/polling.py
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from amtflow.client import AmtClient, new_session
from amtflow.engine import Engine
from amtflow.engine.context import JobEvent, RunContext
from amtflow.engine.polling import PollPolicy
from amtflow.model import Agent, BatchUser, Definitions, MasterJob, Schedule, SecretRef
from amtflow.plan import make_plan
from amtflow.simulator import Scenario, Simulator
from amtflow.task import AmtTask, TaskType

MEASURED = (1.0, 10.0)
MODELLED = (1.0, 10.0, 60.0, 600.0)


def definitions(url: str) -> Definitions:
    jobs = tuple(
        MasterJob(
            name=f"JOB{int(d)}S",
            task=AmtTask(TaskType.BATCH_JOB, "DEMO2", f"JOB{int(d)}S"),
            agent="sim",
        )
        for d in MEASURED
    )
    return Definitions(
        batch_users={"api": BatchUser("api", "OPCONAPI", SecretRef(env="UNUSED"))},
        agents={"sim": Agent("sim", url, "api")},
        schedules={"BENCH": Schedule("BENCH", jobs)},
    )


async def measure() -> dict[float, tuple[float, int]]:
    scenario = Scenario.from_mapping(
        {"jobs": {f"JOB{int(d)}S": {"duration": d, "messages": ["working"]} for d in MEASURED}}
    )
    simulator = Simulator(scenario=scenario)
    ended: dict[str, float] = {}

    def observe(event: JobEvent) -> None:
        if event.state.finished:
            ended[event.job] = time.monotonic()

    async with simulator.running() as url, new_session() as session:
        defs = definitions(url)
        plan = make_plan(defs, defs.schedules["BENCH"], dt.date.today())
        client = AmtClient(
            session, defs.agents["sim"], defs.batch_users["api"], password=lambda: "bench"
        )
        with tempfile.TemporaryDirectory() as logs:
            ctx = RunContext(
                run_id="bench",
                schedule="BENCH",
                date=plan.date,
                log_dir=Path(logs),
                observe=observe,
                poll=PollPolicy(),
            )
            await Engine(ctx, plan, defs.agents, {"sim": client}).run()
    figures = {}
    for duration in MEASURED:
        name = f"JOB{int(duration)}S"
        start = next(
            r
            for r in simulator.record.requests
            if r.action == "Start" and r.body.get("jobName") == name
        )
        rid = start.created
        monitors = [r for r in simulator.record.requests if r.path.endswith(f"/MonitorJob/{rid}")]
        figures[duration] = (ended[name] - (start.time + duration), len(monitors))
    return figures


def vendor_waits() -> Iterator[float]:
    """The vendor connector's waits: 10 s, then 5 s forever."""
    yield 10.0
    while True:
        yield 5.0


def model(duration: float, waits: Iterator[float], *, streams: bool) -> tuple[float, int]:
    """Lateness and total requests (status + messages) of one job on a simulated clock.

    amtflow streams messages while the job runs (reads spaced like its context's defaults);
    the vendor connector reads the job log once, at the end. Both read once more at the end.
    """
    ctx = RunContext(run_id="", schedule="", date=dt.date.today(), log_dir=Path())
    elapsed, requests, next_read = 0.0, 0, ctx.messages_every
    for wait in waits:
        elapsed += wait
        requests += 1
        if elapsed >= duration:
            return elapsed - duration, requests + 1
        if streams and elapsed >= next_read:
            requests += 1
            next_read = elapsed + min(ctx.messages_cap, max(ctx.messages_every, elapsed / 4))
    raise AssertionError("unreachable")


def averaged(duration: float, policy: PollPolicy | None) -> tuple[float, float]:
    """Mean lateness and requests over durations spread 0-10% above ``duration``: a policy
    must not look good or bad only because its poll times happen to line up with one length."""
    spread = [duration * (1 + i / 1000) for i in range(100)]
    runs = [
        model(d, policy.waits() if policy else vendor_waits(), streams=policy is not None)
        for d in spread
    ]
    return statistics.mean(r[0] for r in runs), statistics.mean(r[1] for r in runs)


def main() -> int:
    policy = PollPolicy()
    print(
        f"amtflow policy: first wait {policy.first}s, x{policy.factor} each time, cap "
        f"{policy.cap}s; vendor: 10s, then every 5s\n"
    )
    print("measured against the simulator (end seen after / MonitorJob requests):")
    for duration, (delay, requests) in asyncio.run(measure()).items():
        print(f"  {duration:6.0f}s job: amtflow {delay:6.3f}s / {requests:3d} MonitorJob")
    print(
        "\nmodelled on a simulated clock, mean over lengths spread 0-10% above the nominal"
        "\n(end seen after / requests incl. GetMessages):"
    )
    for duration in MODELLED:
        ours, vendor = averaged(duration, policy), averaged(duration, None)
        print(
            f"  {duration:6.0f}s job: amtflow {ours[0]:6.2f}s / {ours[1]:6.1f}   "
            f"vendor {vendor[0]:6.2f}s / {vendor[1]:6.1f}   "
            f"requests ratio {ours[1] / vendor[1]:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
