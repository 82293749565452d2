"""``amtflow run``: a schedule date runs once, so the command is safe to repeat.

Cron's next attempt, systemd's ``Restart=on-failure``, a Kubernetes Job whose pod was evicted or an
operator's up-arrow all run the same command again. Under the schedule date's ``RunLock`` (held
by a live runner, dropped by the kernel when it dies) the recorded runs of the date decide, by the
pure rules of ``once``: a new run, the resumption of a run whose runner is gone (no job is
started twice), or nothing for a date that already ran, with that run's exit status.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter

from amtflow import definitions as defs
from amtflow import report
from amtflow.engine import collector
from amtflow.errors import DefinitionError, StateError, UsageError
from amtflow.model import Definitions
from amtflow.orchestration.drive import RunOptions, connect, drive, purge_logs
from amtflow.orchestration.once import Action, Decision, PastRun, decide
from amtflow.orchestration.record import RecordedPlan, RunSpec, spec_or_damage, to_data
from amtflow.orchestration.recovery import carry_on
from amtflow.packing import pack
from amtflow.plan import Plan, choose_schedule, plan_for
from amtflow.report import runview as view
from amtflow.runs import Began, JobOutcome, RunRecord, RunResult, RunState
from amtflow.state import Journal, RunLock, duration_seconds, journal_path, new_run_id
from amtflow.state.files import is_file
from amtflow.timeofday import DEFAULT_ZONE, schedule_date, zone


async def run_schedule(options: RunOptions) -> RunResult:
    """Run a schedule date once (``once``): a new run, the resumption of one whose runner
    died, or nothing for a date that already ran; raises ``Interrupted`` on a signal."""
    with collector.quieter():  # loading and planning a large schedule too (engine/collector.py)
        return await _run_schedule(_absolute(options))


async def _run_schedule(options: RunOptions) -> RunResult:
    schedule, definitions = _schedule_of(options)  # before the state dir is made: a refused
    if definitions is not None:  # run leaves nothing behind
        tz = zone(definitions.schedules[schedule].timezone)
        options = dataclasses.replace(options, date=schedule_date(options.date, tz))
    return await _run_date(options, schedule, definitions)


async def run_plan(options: RunOptions, definitions: Definitions, plan: Plan) -> RunResult:
    """Run a plan made from ``definitions`` as ``amtflow run`` does, the run-once rules included
    (what the Python API's ``amtflow.run`` calls)."""
    options = dataclasses.replace(_absolute(options), date=plan.date)
    return await _run_date(options, plan.schedule.name, definitions, plan)


def _absolute(options: RunOptions) -> RunOptions:
    """Recorded paths must still work from another directory (status, logs, resume, kill)."""
    return dataclasses.replace(
        options, definitions=options.definitions.absolute(), log_dir=options.log_dir.absolute()
    )


async def _run_date(
    options: RunOptions, schedule: str, definitions: Definitions | None, plan: Plan | None = None
) -> RunResult:
    with Journal.open(options.state_dir) as journal:
        run_id = new_run_id(schedule)
        with RunLock.acquire(options.state_dir, schedule, options.date, run_id) as lock:
            decision = decide(
                schedule,
                options.date.isoformat(),
                past_runs(journal, schedule, options.date),
                tuple(sorted(set(options.jobs))),
                again=options.again,
                simulated=options.simulate,
            )
            if decision.action is Action.REFUSE:
                raise StateError(decision.message)
            if decision.action is Action.ALREADY_RAN:
                return _already_ran(decision, journal, options)
            if decision.action is Action.RESUME:
                assert decision.run is not None
                report.plain(decision.message)
                lock.hold_for(decision.run.run_id)
                return await carry_on(journal, decision.run.run_id, options, moved="warn")
            definitions = definitions or _load(options)
            return await _new_run(options, definitions, journal, run_id, plan)


def _schedule_of(options: RunOptions) -> tuple[str, Definitions | None]:
    """The schedule's name: from the definitions, or from the journal's runs of the file for
    the date when the file is gone or no longer loads (those runs are the journal's truth; a new
    run still needs valid definitions)."""
    try:
        definitions = _load(options)
    except (DefinitionError, UsageError):  # invalid, or gone
        recorded = _recorded_schedule(options)
        if recorded is None:
            raise
        return recorded, None
    return choose_schedule(definitions, options.schedule).name, definitions


def _recorded_schedule(options: RunOptions) -> str | None:
    if not is_file(journal_path(options.state_dir)):
        return None
    with Journal.open(options.state_dir) as journal:
        runs = journal.runs_from(str(options.definitions), options.date)
    names = {run.schedule for run in runs if options.schedule in (None, run.schedule)}
    return names.pop() if len(names) == 1 else None


def _load(options: RunOptions) -> Definitions:
    return defs.load([options.definitions], properties=options.properties)


def past_runs(journal: Journal, schedule: str, date: dt.date) -> list[PastRun]:
    """The recorded runs of a schedule date as the run-once decision reads them."""
    return [_past_run(journal, run) for run in journal.runs_of(schedule, date)]


def _past_run(journal: Journal, run: RunRecord) -> PastRun:
    spec = spec_or_damage(run)
    damage = f"its recorded options in journal {journal.path} cannot be read ({spec})"
    return PastRun(
        run.run_id,
        run.state,
        () if isinstance(spec, str) else spec.selection,
        run.pid,
        dict(Counter(a.state.value for a in journal.latest_attempts(run.run_id).values())),
        simulated=run.simulated,
        unreadable=damage if isinstance(spec, str) else "",
    )


def _already_ran(decision: Decision, journal: Journal, options: RunOptions) -> RunResult:
    """Nothing starts; the line says so, and the result is that run's."""
    assert decision.run is not None
    report.plain(decision.message)
    past = journal.run(decision.run.run_id)
    outcomes = tuple(map(JobOutcome.recorded, journal.latest_attempts(past.run_id).values()))
    elapsed = duration_seconds(past) or 0.0
    return RunResult(
        past.run_id,
        past.state,
        outcomes,
        Began.ALREADY_RAN,
        before=past.state,
        schedule=past.schedule,
        date=options.date,
        elapsed=elapsed,
    )


async def _new_run(
    options: RunOptions,
    definitions: Definitions,
    journal: Journal,
    run_id: str,
    plan: Plan | None = None,
) -> RunResult:
    plan = plan or plan_for(
        definitions,
        options.date,
        schedule=options.schedule,
        jobs=options.jobs,
        properties=options.properties,
        environ=options.environ,
    )
    purge_logs(options.log_dir, definitions)
    if not plan.jobs:
        view.nothing_to_run(plan.reason or "no job of the schedule runs on this date")
        return RunResult("", RunState.OK, ())
    after = journal.last_batch_request_id()
    async with connect(options, definitions, plan, after_request=after) as connection:
        spec = run_spec(options, plan, connection.simulator_url)
        journal.begin_run(
            plan.schedule.name,
            plan.date,
            definitions=str(options.definitions),
            digest=definitions.digest,
            run_id=run_id,
            options=json.dumps(to_data(spec), sort_keys=True),
            plan=pack(RecordedPlan.of(spec, plan, definitions).json_chunks()),
        )
        return await drive(options, plan, connection, journal, run_id)


def run_spec(options: RunOptions, plan: Plan, simulator_url: str) -> RunSpec:
    """What the journal keeps of what a run was asked for."""
    return RunSpec(
        definitions=str(options.definitions),
        schedule=plan.schedule.name,
        date=plan.date,
        log_dir=str(options.log_dir),
        jobs=tuple(options.jobs),
        properties=dict(options.properties),
        requested=options.schedule is not None,
        max_parallel=options.max_parallel,
        simulate=options.simulate,
        scenario=str(options.scenario.absolute()) if options.scenario else None,
        simulator_url=simulator_url,
        timezone="" if plan.schedule.timezone == DEFAULT_ZONE else plan.schedule.timezone,
    )
