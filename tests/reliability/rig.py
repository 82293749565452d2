"""An in-process rig: the real engine and client against the real simulator on loopback.

rig = LoadRig(jobs=500, waves=5)
result = await rig.run(faults=..., during=...)   # outcomes, the simulator's record, logs
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from amtflow.client import AmtClient, RetryPolicy, new_session
from amtflow.engine import Engine
from amtflow.engine.context import RunContext
from amtflow.engine.polling import PollPolicy
from amtflow.model import (
    Agent,
    BatchUser,
    Definitions,
    Dependency,
    MasterJob,
    Schedule,
    SecretRef,
)
from amtflow.orchestration.drive import run_state
from amtflow.plan import make_plan
from amtflow.runs import JobOutcome, RunState
from amtflow.simulator import JobScript, Scenario, Simulator, TimedMessage
from amtflow.task import AmtTask, TaskType

DATE = dt.date(2026, 11, 24)
PASSWORD = "rig-Pa55word"
MESSAGES = 3  # messages each job writes
FAILING_EVERY = 97  # every 97th job ends 11 ERROR (its dependents are not run)

# Small delays so that the tests take seconds. Enough attempts that a call survives both the
# worst of test_faults: a 2 s outage (every call dropped) costs up to 7 attempts of this back-off
# (ceilings 0.1, 0.2, 0.4, 0.8, 1.0, ...; each wait half to all of its ceiling), and after it
# 35 % of calls still fail (1 - 0.8 * 0.9 * 0.95 * 0.95). With 12 attempts the ~100 calls in flight
# during the outage each had 0.35 ** 5 ~ 5e-3 to exhaust the rest: a failed job in about one run
# of three under load (CI, 2026-11-24). With 24: 0.35 ** 17 ~ 2e-8 per call.
FAST_RETRIES = RetryPolicy(
    max_attempts=24,
    budget=60.0,
    base_delay=0.1,
    max_delay=1.0,
    retry_after_cap=2.0,
    request_timeout=5.0,
    connect_timeout=2.0,
)
FAST_POLL = PollPolicy(first=0.05, factor=1.5, cap=0.5)

During = Callable[[Simulator], Awaitable[None]]


def job_name(index: int) -> str:
    return f"J{index:04d}"


@dataclass
class RigResult:
    outcomes: dict[str, JobOutcome]
    simulator: Simulator
    client: AmtClient
    log_dir: Path
    elapsed: float
    expected_failures: frozenset[str] = field(default_factory=frozenset)

    @property
    def run_state(self) -> RunState:
        return run_state(tuple(self.outcomes.values()), interrupted=False)

    @property
    def exit_status(self) -> int:
        return 0 if self.run_state is RunState.OK else 1

    def states(self) -> Counter[str]:
        return Counter(o.state.value for o in self.outcomes.values())

    def logs(self) -> dict[str, str]:
        """Each job's log text, by job name (a job with two logs fails the lookup)."""
        found: dict[str, str] = {}
        for path in self.log_dir.rglob("*.log"):
            name = path.name.split(".")[0]
            assert name not in found, f"{name} has more than one log"
            found[name] = path.read_text(encoding="utf-8")
        return found


class LoadRig:
    """``jobs`` jobs in ``waves`` waves: job i depends on job i - jobs/waves."""

    def __init__(
        self,
        jobs: int = 500,
        waves: int = 5,
        *,
        duration: float = 0.2,
        max_parallel: int = 100,
        failing_every: int = FAILING_EVERY,
    ) -> None:
        self.count, self.width = jobs, max(1, jobs // waves)
        self.duration, self.max_parallel = duration, max_parallel
        self.failing = frozenset(
            job_name(i)
            for i in range(jobs)
            if failing_every and i % failing_every == failing_every - 1
        )

    def scenario(self) -> Scenario:
        messages = tuple(TimedMessage(f"step {n} of {MESSAGES}") for n in range(1, MESSAGES + 1))
        normal = JobScript(duration=self.duration, messages=messages)
        failing = JobScript(duration=self.duration, end_code=11, messages=messages)
        return Scenario(
            jobs={name: failing for name in self.failing},
            default=normal,
            users={"OPCONAPI": PASSWORD},
            token_lifetime=3600,
        )

    def definitions(self, url: str) -> Definitions:
        jobs = tuple(self._job(i) for i in range(self.count))
        agent = Agent("sim", url, "api", max_concurrent_jobs=self.max_parallel, allow_kill_job=True)
        return Definitions(
            batch_users={"api": BatchUser("api", "OPCONAPI", SecretRef(env="RIG_UNUSED"))},
            agents={"sim": agent},
            schedules={"LOAD": Schedule("LOAD", jobs)},
        )

    def _job(self, index: int) -> MasterJob:
        deps = (Dependency(job_name(index - self.width)),) if index >= self.width else ()
        return MasterJob(
            name=job_name(index),
            task=AmtTask(TaskType.BATCH_JOB, "DEMO2", job_name(index)),
            agent="sim",
            depends_on=deps,
        )

    def not_run_without_faults(self) -> frozenset[str]:
        """Jobs downstream of a failing job: what a fault-free run leaves not run."""
        blocked: set[str] = set()
        for index in range(self.count):
            parent = index - self.width
            if parent >= 0 and (job_name(parent) in self.failing | blocked):
                blocked.add(job_name(index))
        return frozenset(blocked)

    async def run(
        self,
        tmp: Path,
        *,
        simulator: Simulator | None = None,
        policy: RetryPolicy = FAST_RETRIES,
        during: During | None = None,
        deadline: float | None = None,
    ) -> RigResult:
        """Run every job once through the engine; ``during`` runs alongside (fault triggers).

        ``deadline`` (seconds) bounds a run that would never end, and fails it there."""
        simulator = simulator or Simulator(self.scenario(), seed=7)
        loop = asyncio.get_running_loop()
        async with simulator.running() as url, new_session() as session:
            defs = self.definitions(url)
            plan = make_plan(defs, defs.schedules["LOAD"], DATE)
            client = AmtClient(
                session,
                defs.agents["sim"],
                defs.batch_users["api"],
                password=lambda: PASSWORD,
                policy=policy,
            )
            ctx = RunContext(
                run_id="rig",
                schedule="LOAD",
                date=DATE,
                log_dir=tmp / "logs",
                poll=FAST_POLL,
                messages_every=0.2,
                messages_cap=1.0,
                kill_grace=1.0,
            )
            engine = Engine(ctx, plan, defs.agents, {"sim": client}, max_parallel=self.max_parallel)
            side = asyncio.ensure_future(during(simulator)) if during else None
            began = loop.time()
            try:
                outcomes = await asyncio.wait_for(engine.run(), deadline)
            finally:
                if side is not None:
                    side.cancel()
            return RigResult(
                outcomes, simulator, client, tmp / "logs", loop.time() - began, self.failing
            )
