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
import sys
import tempfile
import time
from pathlib import Path

from amtflow.client import AmtClient, new_session
from amtflow.engine import Engine
from amtflow.engine.context import JobEvent, RunContext
from amtflow.engine.polling import PollPolicy, seen_after, vendor_waits
from amtflow.model import Agent, BatchUser, Definitions, MasterJob, Schedule, SecretRef, TaskType
from amtflow.plan import make_plan
from amtflow.simulator import Scenario, Simulator

MEASURED = (1.0, 10.0)
MODELLED = (1.0, 10.0, 60.0, 600.0)


def definitions(url: str) -> Definitions:
    jobs = tuple(
        MasterJob(name=f"JOB{int(d)}S", task=TaskType.BATCH_JOB, agent="sim",
                  application="DEMO2", job_name=f"JOB{int(d)}S")
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
        client = AmtClient(session, defs.agents["sim"], defs.batch_users["api"],
                           password=lambda: "bench")
        with tempfile.TemporaryDirectory() as logs:
            ctx = RunContext(run_id="bench", schedule="BENCH", date=plan.date,
                             log_dir=Path(logs), observe=observe, poll=PollPolicy())
            await Engine(ctx, plan, defs.agents, {"sim": client}).run()
    figures = {}
    for duration in MEASURED:
        name = f"JOB{int(duration)}S"
        start = next(r for r in simulator.record.requests if r.action == "Start"
                     and r.body.get("jobName") == name)
        rid = start.created
        monitors = [r for r in simulator.record.requests if r.path.endswith(f"/MonitorJob/{rid}")]
        figures[duration] = (ended[name] - (start.time + duration), len(monitors))
    return figures


def main() -> int:
    policy = PollPolicy()
    print(f"amtflow policy: first wait {policy.first}s, x{policy.factor} each time, cap "
          f"{policy.cap}s; vendor: 10s, then every 5s\n")
    print("measured against the simulator (end seen after / MonitorJob requests):")
    measured = asyncio.run(measure())
    for duration, (delay, requests) in measured.items():
        vendor_delay, vendor_requests = seen_after(duration, vendor_waits())
        print(f"  {duration:6.0f}s job: amtflow {delay:6.3f}s / {requests:3d} requests   "
              f"vendor (model) {vendor_delay:6.3f}s / {vendor_requests:3d} requests")
    print("\nmodelled on a simulated clock (end seen after / status requests):")
    for duration in MODELLED:
        ours = seen_after(duration, policy.waits())
        vendor = seen_after(duration, vendor_waits())
        print(f"  {duration:6.0f}s job: amtflow {ours[0]:6.3f}s / {ours[1]:3d} requests   "
              f"vendor {vendor[0]:6.3f}s / {vendor[1]:3d} requests   "
              f"requests ratio {ours[1] / vendor[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
