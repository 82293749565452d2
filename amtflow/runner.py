"""``amtflow run`` and ``amtflow resume``: validate, plan, check the agents, run, record, report.

The order protects the user: nothing starts until the definitions validate, the plan resolves
and every agent the plan needs answers and accepts its credentials; the run lock is taken before
the run is recorded, so a refused run leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from amtflow import definitions as defs
from amtflow import report
from amtflow.agents import check_agents
from amtflow.batch import BatchClient
from amtflow.client import AmtClient, new_session
from amtflow.engine import Engine, JobOutcome
from amtflow.engine.context import RunContext
from amtflow.engine.polling import PollPolicy
from amtflow.errors import AmtError, Interrupted, StateError
from amtflow.joblog import purge, retention_of
from amtflow.model import Agent, Definitions
from amtflow.plan import Plan, choose_schedule, make_plan
from amtflow.report import logs as logs_report
from amtflow.report import run as view
from amtflow.runs import JobRunRecord, JobState, RunRecord, RunState
from amtflow.simulator import SIMULATED_PASSWORD, JobScript, Scenario, Simulator
from amtflow.state import Journal, RunLock, new_run_id
from amtflow.timeofday import schedule_date, zone

DEMO_SCENARIO = Scenario(default=JobScript(duration=0.5, queued=0.2))


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
    json_path: Path | None = None
    junit_path: Path | None = None
    live: bool = False
    poll: PollPolicy = PollPolicy()


@dataclass(frozen=True)
class RunResult:
    run_id: str
    state: RunState
    outcomes: tuple[JobOutcome, ...]
    exit_status: int


@dataclass(frozen=True)
class Connection:
    """The agents a run talks to (pointed at the simulator with --simulate) and their clients."""

    agents: Mapping[str, Agent]
    clients: Mapping[str, BatchClient]
    simulator_url: str = ""


def plan_for(options: RunOptions, definitions: Definitions) -> Plan:
    """The plan a run of ``options`` would carry out (also what ``amtflow plan`` shows)."""
    schedule = choose_schedule(definitions, options.schedule)
    return make_plan(
        definitions,
        schedule,
        schedule_date(options.date, zone(schedule.timezone)),
        jobs=options.jobs,
        properties=options.properties,
        environ=options.environ,
        requested=options.schedule is not None,
    )


async def run_schedule(options: RunOptions) -> RunResult:
    """Run a schedule for a date; raises ``Interrupted`` (after the summary) on a signal."""
    # recorded paths must still work from another directory (status, logs, resume, kill)
    options = dataclasses.replace(
        options, definitions=options.definitions.absolute(), log_dir=options.log_dir.absolute()
    )
    definitions = defs.load([options.definitions], properties=options.properties)
    return await run_plan(options, definitions, plan_for(options, definitions))


async def run_plan(options: RunOptions, definitions: Definitions, plan: Plan) -> RunResult:
    """Run a plan made from ``definitions`` (what ``amtflow.run`` calls; paths are absolute)."""
    _purge_logs(options.log_dir, definitions)
    if not plan.jobs:
        view.nothing_to_run(plan.reason or "no job of the schedule runs on this date")
        return RunResult("", RunState.OK, (), 0)
    with Journal.open(options.state_dir) as journal:
        run_id = new_run_id(plan.schedule.name)
        with RunLock.acquire(options.state_dir, plan.schedule.name, plan.date, run_id):
            async with connect(options, definitions, plan) as connection:
                journal.begin_run(
                    plan.schedule.name,
                    plan.date,
                    definitions=str(options.definitions),
                    digest=definitions.digest,
                    run_id=run_id,
                    options=_recorded(options, connection.simulator_url),
                )
                return await drive(options, plan, connection, journal, run_id)


async def resume_run(
    run_ref: str,
    *,
    state_dir: Path,
    live: bool,
    environ: Mapping[str, str],
    log_dir: Path | None = None,
) -> RunResult:
    """Carry on a run whose runner died: re-attach, repeat unanswered Starts, start the rest.

    The log dir is the run's own unless ``log_dir`` says otherwise.
    """
    with Journal.open(state_dir) as journal:
        record = journal.run(run_ref)
        options = _restored(record, state_dir=state_dir, live=live, environ=environ)
        if log_dir is not None:
            options = dataclasses.replace(options, log_dir=log_dir.absolute())
        definitions = defs.load([options.definitions], properties=options.properties)
        if definitions.digest != record.digest:
            report.warning(f"the definitions changed since run {record.run_id} started")
        plan = plan_for(options, definitions)
        with RunLock.acquire(state_dir, plan.schedule.name, plan.date, record.run_id):
            _check_resumable(journal.run(record.run_id))
            async with connect(options, definitions, plan) as connection:
                journal.reopen_run(record.run_id)
                attempts = journal.latest_attempts(record.run_id)
                return await drive(options, plan, connection, journal, record.run_id, attempts)


def _check_resumable(record: RunRecord) -> None:
    if record.state in (RunState.OK, RunState.FAILED):
        raise StateError(
            f"run {record.run_id} already ended ({record.state.value}): "
            "nothing to resume; start a new run instead"
        )
    if json.loads(record.options or "{}").get("simulate"):
        raise StateError(
            f"run {record.run_id} ran on the embedded simulator, which ended with "
            "it: nothing to re-attach to; start a new run instead"
        )


def _recorded(options: RunOptions, simulator_url: str) -> str:
    """What a run was asked for, as the journal keeps it for resume and kill."""
    return json.dumps(
        {
            "schedule": options.schedule,
            "jobs": list(options.jobs),
            "properties": dict(options.properties),
            "max_parallel": options.max_parallel,
            "simulate": options.simulate,
            "simulator_url": simulator_url,
            "log_dir": str(options.log_dir),
        }
    )


def _restored(record: RunRecord, **where: object) -> RunOptions:
    saved = json.loads(record.options or "{}")
    return RunOptions(
        definitions=Path(record.definitions),
        date=dt.date.fromisoformat(record.date),
        schedule=saved.get("schedule"),
        jobs=tuple(saved.get("jobs", ())),
        properties=saved.get("properties", {}),
        max_parallel=saved.get("max_parallel", 50),
        simulate=bool(saved.get("simulate")),
        log_dir=Path(saved.get("log_dir", ".amtflow/logs")),
        **where,  # type: ignore[arg-type]
    )


def _purge_logs(log_dir: Path, definitions: Definitions) -> None:
    logs_report.purged_before_run(purge(log_dir, retention_of(definitions.agents)), log_dir)


@contextlib.asynccontextmanager
async def connect(
    options: RunOptions, definitions: Definitions, plan: Plan
) -> AsyncIterator[Connection]:
    """Clients for the agents the plan needs, checked (reachable, credentials) before any Start."""
    needed = {job.job.agent for job in plan.jobs}
    async with _servers(options, definitions) as (agents, simulator_url):
        password = (lambda: SIMULATED_PASSWORD) if simulator_url else None
        async with new_session() as session:
            subset = {name: agents[name] for name in sorted(needed)}
            await preflight(dataclasses.replace(definitions, agents=subset), session, password)
            clients: dict[str, BatchClient] = {
                name: AmtClient(
                    session, agent, definitions.batch_users[agent.batch_user], password=password
                )
                for name, agent in subset.items()
            }
            yield Connection(agents, clients, simulator_url)


@contextlib.asynccontextmanager
async def _servers(
    options: RunOptions, definitions: Definitions
) -> AsyncIterator[tuple[dict[str, Agent], str]]:
    """The agents as defined, or all pointed at an embedded simulator (``--simulate``)."""
    if not options.simulate:
        yield dict(definitions.agents), ""
        return
    scenario = Scenario.load(options.scenario) if options.scenario else DEMO_SCENARIO
    async with Simulator(scenario=scenario).running() as url:
        agents = {
            name: dataclasses.replace(agent, batch_server_url=url)
            for name, agent in definitions.agents.items()
        }
        yield agents, url


async def preflight(
    definitions: Definitions, session: aiohttp.ClientSession, password: Callable[[], str] | None
) -> None:
    """Every enabled agent answers and accepts its credentials, or no job starts."""
    checks = await check_agents(definitions, session, password_for=lambda user: password)
    problems = [f"agent {check.agent}: {check.problem}" for check in checks if not check.ok]
    if problems:
        raise AmtError("preflight failed, no job was started: " + "; ".join(problems))


async def drive(
    options: RunOptions,
    plan: Plan,
    connection: Connection,
    journal: Journal,
    run_id: str,
    resume: Mapping[str, JobRunRecord] | None = None,
) -> RunResult:
    """Run the plan's jobs under the engine, with the view, signals and the summary."""
    view.run_header(run_id, plan, simulated=connection.simulator_url, resumed=resume is not None)
    started = time.monotonic()
    with _view(options.live, [job.name for job in plan.jobs]) as observe:
        ctx = RunContext(
            run_id=run_id,
            schedule=plan.schedule.name,
            date=plan.date,
            log_dir=options.log_dir,
            recorder=journal,
            observe=observe,
            poll=options.poll,
        )
        engine = Engine(
            ctx,
            plan,
            connection.agents,
            connection.clients,
            max_parallel=options.max_parallel,
            resume=resume,
        )
        with _signals(engine) as received:
            outcomes = tuple((await engine.run()).values())
    elapsed = time.monotonic() - started
    return _conclude(options, plan, journal, run_id, outcomes, received, elapsed)


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
) -> RunResult:
    state = run_state(outcomes, interrupted=bool(received))
    journal.finish_run(run_id, state)
    view.summary(outcomes, options.log_dir, elapsed)
    status = received[0] + 128 if received else (0 if state is RunState.OK else 1)
    run = {
        "run_id": run_id,
        "schedule": plan.schedule.name,
        "date": plan.date.isoformat(),
        "state": state.value,
        "exit_status": status,
    }
    if options.json_path:
        view.write_json(options.json_path, run, outcomes)
    if options.junit_path:
        view.write_junit(options.junit_path, plan.schedule.name, outcomes, elapsed)
    if received:
        raise Interrupted(received[0])
    return RunResult(run_id, state, outcomes, status)


def run_state(outcomes: tuple[JobOutcome, ...], *, interrupted: bool) -> RunState:
    """A run is OK when every job ended OK; interrupted when a signal cut it short."""
    if interrupted or any(o.state is JobState.RUNNING for o in outcomes):
        return RunState.INTERRUPTED
    return RunState.OK if all(o.state.acceptable for o in outcomes) else RunState.FAILED
