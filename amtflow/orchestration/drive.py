"""Carrying out a run: check the agents, run the plan's jobs, record, report.

The order protects the user: nothing starts until the definitions validate, the plan resolves
and every agent the plan needs answers and accepts its credentials; the run lock is taken before
the run is recorded, so a refused run leaves nothing behind. ``schedule_date`` decides whether a
schedule date runs at all; ``recovery`` carries on a recorded run (resume, rerun).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ParamSpec

import aiohttp

from amtflow import report
from amtflow.batch import BatchClient
from amtflow.client import AmtClient, new_session
from amtflow.client.check import check_agents
from amtflow.engine import Engine
from amtflow.engine.context import RunContext
from amtflow.engine.polling import PollPolicy
from amtflow.errors import AmtError
from amtflow.joblog import purge, retention_of
from amtflow.model import Agent, Definitions, Notification
from amtflow.notify import RunFacts, RunNotices, closing, refusal
from amtflow.orchestration.room import left_unfinished, refuse_a_log_dir_without_room, way_on
from amtflow.orchestration.servers import AGENTS, Servers, Simulated
from amtflow.plan import Plan
from amtflow.report import logs as logs_report
from amtflow.report import runview as view
from amtflow.runs import Began, JobOutcome, JobRunRecord, JobState, RunResult, RunState
from amtflow.state import Journal
from amtflow.state.files import make_log_dir

_P = ParamSpec("_P")


@dataclass(frozen=True)
class RunOptions:
    """Everything ``amtflow run`` was asked to do."""

    definitions: Path
    date: dt.date
    log_dir: Path
    state_dir: Path
    schedule: str | None = None
    jobs: tuple[str, ...] = ()
    properties: Mapping[str, str] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=dict)
    max_parallel: int = 50
    simulate: bool = False
    scenario: Path | None = None
    live: bool = False
    poll: PollPolicy = PollPolicy()
    again: bool = False  # a new run of a schedule date that already ran
    servers: Servers = AGENTS  # where the servers are: chosen at the edge (the simulator there)

    @property
    def simulated(self) -> Simulated | None:
        """How the run is simulated (``--simulate``), or None."""
        return Simulated(self.scenario) if self.simulate else None


@dataclass(frozen=True)
class Restart:
    """Where a run carries on from, as data: nothing (a new run), the journal's latest attempts
    (resume), and the jobs to start again as new attempts (rerun)."""

    began: Began = Began.NEW
    attempts: Mapping[str, JobRunRecord] | None = None
    rerun: frozenset[str] = frozenset()
    before: RunState | None = None  # the run's state before it was carried on


def _header_word(restart: Restart) -> str:
    """How the run's first line says it began: a finished run carried on past jobs marked OK
    (``amtflow mark-ok``) starts no failed job again, so it is not "rerunning failed jobs"."""
    if restart.began is Began.RERUN and not restart.rerun:
        return "carried_on"
    return restart.began.value


@dataclass(frozen=True)
class Connection:
    """The agents a run talks to (pointed at the simulator with --simulate) and their clients."""

    agents: Mapping[str, Agent]
    clients: Mapping[str, BatchClient]
    simulator_url: str = ""
    notifications: Mapping[str, Notification] = field(default_factory=dict)


def purge_logs(log_dir: Path, definitions: Definitions) -> None:
    logs_report.purged_before_run(purge(log_dir, retention_of(definitions.agents)), log_dir)


@contextlib.asynccontextmanager
async def connect(
    options: RunOptions, definitions: Definitions, plan: Plan, *, after_request: int = 0
) -> AsyncIterator[Connection]:
    """Clients for the agents the plan needs, checked (reachable, credentials) before any Start,
    as the log dir's room is (``room``). An embedded simulator (``--simulate``) numbers its
    jobs after ``after_request``."""
    refuse_a_log_dir_without_room(options.log_dir)
    needed = {job.job.agent for job in plan.jobs}
    simulated = options.simulated
    if simulated is not None:  # job logs of simulated runs never share a name (JOB.4280~2.log)
        simulated = dataclasses.replace(simulated, after_request=after_request)
    async with options.servers(definitions.agents, simulated) as reach:
        agents, password = reach.agents, reach.password
        async with new_session() as session:
            subset = {name: agents[name] for name in sorted(needed)}
            facts = RunFacts(plan.schedule.name, plan.date, "", len(plan.jobs))
            notifications = definitions.notifications
            async with refusal(
                notifications, plan.schedule, facts, warn=report.warning, environ=options.environ
            ):
                await preflight(dataclasses.replace(definitions, agents=subset), session, password)
            clients: dict[str, BatchClient] = {
                name: AmtClient(
                    session, agent, definitions.batch_users[agent.batch_user], password=password
                )
                for name, agent in subset.items()
            }
            yield Connection(agents, clients, reach.simulator_url, definitions.notifications)


async def preflight(
    definitions: Definitions, session: aiohttp.ClientSession, password: Callable[[], str] | None
) -> None:
    """Every enabled agent answers and accepts its credentials, or no job starts."""
    checks = await check_agents(definitions, session, password_for=lambda user: password)
    problems = [f"agent {check.agent}: {check.problem}" for check in checks if not check.ok]
    if problems:
        raise AmtError("preflight failed, no job was started: " + "; ".join(problems))


def _hangup_ignored(
    carry_out: Callable[_P, Awaitable[RunResult]],
) -> Callable[_P, Awaitable[RunResult]]:
    """A hung-up terminal (SIGHUP: the ssh session dropped) never stops a run: from the moment it
    is recorded to its end it is ignored; the output it leaves goes quiet (``report``)."""

    @functools.wraps(carry_out)
    async def carried_out(*args: _P.args, **kwargs: _P.kwargs) -> RunResult:
        before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
        try:
            return await carry_out(*args, **kwargs)
        finally:
            signal.signal(signal.SIGHUP, before)

    return carried_out


@_hangup_ignored
async def drive(
    options: RunOptions,
    plan: Plan,
    connection: Connection,
    journal: Journal,
    run_id: str,
    restart: Restart = Restart(),
) -> RunResult:
    """Run the plan's jobs under the engine, with the view, signals, notifications, summary."""
    journal.lock_watch.say = report.warning  # another process holding the journal's lock
    make_log_dir(options.log_dir)  # with a .gitignore where it is new
    notices = RunNotices.start(
        connection.notifications,
        plan.schedule,
        RunFacts(plan.schedule.name, plan.date, run_id, len(plan.jobs)),
        recorder=journal,
        warn=report.warning,
        environ=options.environ,
        began=restart.began.value,
    )
    way = way_on(run_id, simulated=options.simulate, began=restart.began)
    async with closing(notices), left_unfinished(run_id, notices, way):
        return await _drive(options, plan, connection, journal, run_id, restart, notices)


async def _drive(
    options: RunOptions,
    plan: Plan,
    connection: Connection,
    journal: Journal,
    run_id: str,
    restart: Restart,
    notices: RunNotices,
) -> RunResult:
    view.run_header(run_id, plan, simulated=connection.simulator_url, began=_header_word(restart))
    started = time.monotonic()
    with _view(options.live, [job.name for job in plan.jobs]) as observe:
        ctx = RunContext(
            run_id=run_id,
            schedule=plan.schedule.name,
            date=plan.date,
            log_dir=options.log_dir,
            recorder=journal,
            observe=notices.watching(observe),
            poll=options.poll,
            operator_actions=functools.partial(journal.operator_actions, run_id),
        )
        engine = Engine(
            ctx,
            plan,
            connection.agents,
            connection.clients,
            max_parallel=options.max_parallel,
            resume=restart.attempts,
            rerun=restart.rerun,
            on_outcome=notices.job_ended,
        )
        with _signals(engine) as received:
            outcomes = tuple((await engine.run()).values())
    elapsed = time.monotonic() - started
    rerun_of = restart.before if restart.began is Began.RERUN else None
    state = run_state(outcomes, interrupted=bool(received))
    notices.run_ended(state, outcomes, *received[:1], rerun_of=rerun_of)
    return _conclude(options, plan, journal, run_id, outcomes, received, elapsed, restart)


def _view(live: bool, names: list[str]) -> view.LiveView | view.PlainView:
    return view.LiveView(names) if live else view.PlainView()


@contextlib.contextmanager
def _signals(engine: Engine) -> Iterator[list[int]]:
    """SIGINT and SIGTERM interrupt the engine (kill what may be killed) instead of the process."""
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        engine.interrupt()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        yield received
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _conclude(
    options: RunOptions,
    plan: Plan,
    journal: Journal,
    run_id: str,
    outcomes: tuple[JobOutcome, ...],
    received: list[int],
    elapsed: float,
    restart: Restart,
) -> RunResult:
    state = run_state(outcomes, interrupted=bool(received))
    journal.finish_run(run_id, state)
    view.summary(outcomes, options.log_dir, elapsed)
    return RunResult(
        run_id,
        state,
        outcomes,
        restart.began,
        before=restart.before,
        schedule=plan.schedule.name,
        date=plan.date,
        elapsed=elapsed,
        signal=received[0] if received else None,
        jobs={j.name: (j.agent, tuple(d.job for d in j.depends_on)) for j in plan.schedule.jobs},
    )


def run_state(outcomes: tuple[JobOutcome, ...], *, interrupted: bool) -> RunState:
    """A run is OK when every job ended OK; interrupted when a signal cut it short."""
    if interrupted or any(o.state is JobState.RUNNING for o in outcomes):
        return RunState.INTERRUPTED
    return RunState.OK if all(o.acceptable for o in outcomes) else RunState.FAILED
