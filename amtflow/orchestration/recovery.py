"""Carrying on a recorded run from the journal: ``resume`` (its runner died) and ``rerun`` (failed
jobs started again inside a finished run, after an operator fixed the cause).

Both read the run from the journal, its ``RunSpec`` and ``RecordedPlan``, never from the
definition files, which may have changed or gone since the run began; those are read only to see
whether an agent of the run is now defined at another server (``moved``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from amtflow import report
from amtflow.engine import collector
from amtflow.engine.timing import MISSED_START
from amtflow.errors import StateError, UsageError
from amtflow.orchestration.drive import Restart, RunOptions, connect, drive
from amtflow.orchestration.moved import Carrying, refuse_moved_agents, warn_moved_agents
from amtflow.orchestration.record import RecordedPlan, RunSpec, recorded_plan
from amtflow.plan import Plan
from amtflow.runs import Began, JobRunRecord, JobState, RunRecord, RunResult, RunState
from amtflow.state import Journal, RunLock
from amtflow.timeofday import shown_time
from amtflow.wording import state_word

_RERUNNABLE = (JobState.FAILED, JobState.KILLED)

OnMoved = Literal["refuse", "warn", "checked"]
"""What carrying a run on does when an agent of it moved (see ``carry_on``)."""


def options_for(
    recorded: RecordedPlan, shown: RunOptions, log_dir: Path | None = None
) -> RunOptions:
    """``shown`` (view, outputs, state dir) with what the run itself was asked for."""
    spec = recorded.spec
    return dataclasses.replace(
        shown,
        definitions=Path(spec.definitions),
        date=spec.date,
        schedule=spec.schedule,
        jobs=spec.jobs,
        properties=spec.properties,
        max_parallel=spec.max_parallel,
        simulate=spec.simulate,
        scenario=shown.scenario or (Path(spec.scenario) if spec.scenario else None),
        log_dir=(log_dir or Path(spec.log_dir)).absolute(),
    )


async def resume_run(run_ref: str, shown: RunOptions, *, log_dir: Path | None = None) -> RunResult:
    """``amtflow resume``: carry on a run whose runner died, never starting a job twice.

    The log dir is the run's own unless ``log_dir`` says otherwise. Refused, changing nothing,
    when the definitions now put an agent of the run on another server (``moved``).
    """
    with Journal.open(shown.state_dir) as journal:
        run = journal.run(run_ref)
        with RunLock.acquire(shown.state_dir, run.schedule, _date(run), run.run_id):
            return await carry_on(journal, run.run_id, shown, log_dir=log_dir, moved="refuse")


async def rerun_run(run_ref: str, jobs: Sequence[str], shown: RunOptions) -> RunResult:
    """``amtflow rerun``: start the named failed or killed jobs of a finished run again (all
    of them when none is named), inside the same run, then what was not run because of them.
    A job that missed its latest start is started late when it is named (only then). Refused,
    changing nothing, when the definitions now put an agent of the run on another server."""
    with Journal.open(shown.state_dir) as journal:
        run = journal.run(run_ref)
        with RunLock.acquire(shown.state_dir, run.schedule, _date(run), run.run_id):
            return await carry_on(journal, run.run_id, shown, rerun=tuple(jobs), moved="refuse")


async def carry_on(
    journal: Journal,
    run_id: str,
    shown: RunOptions,
    *,
    rerun: tuple[str, ...] | None = None,
    log_dir: Path | None = None,
    marked: bool = False,
    moved: OnMoved = "refuse",
) -> RunResult:
    """Resume ``run_id`` (``rerun`` None) or rerun jobs of it; the caller holds its RunLock.

    ``marked``: carry on a finished run past the jobs an operator marked OK, starting none of
    them again (``amtflow mark-ok``), as a rerun does with what was not run because of them.
    ``moved``: what to do if the definitions now put an agent of the run on another server:
    refuse, changing nothing (``resume``, ``rerun``); say so and carry on at the recorded one
    (``amtflow run`` resuming its date); or nothing, the caller refused before it recorded
    anything (``mark-ok``).
    """
    with collector.quieter():  # a large recorded plan is decoded first (engine/collector.py)
        run = journal.run(run_id)  # read again under the lock
        recorded = recorded_plan(run, shown.environ)
        options = options_for(recorded, shown, log_dir)
        plan = recorded.plan(options.environ)  # [[ENV:...]] values read again, as at the start
        attempts = journal.latest_attempts(run_id)
        if rerun is None:
            _check_resumable(run, recorded.spec)
            _mind_moved(run_id, recorded, moved, "resume")
            restart = Restart(Began.RESUMED, attempts, before=run.state)  # the "run resumed" moment
        elif marked:
            _mind_moved(run_id, recorded, moved, "mark-ok")
            restart = Restart(Began.RERUN, attempts, before=run.state)
        else:
            targets = rerun_targets(run, attempts, plan, rerun)
            _mind_moved(run_id, recorded, moved, "rerun")
            for line in late_starts(attempts, plan, targets):
                report.warning(line)
            restart = Restart(Began.RERUN, attempts, targets, before=run.state)
        after = journal.last_batch_request_id()
        async with connect(
            options, recorded.definitions(), plan, after_request=after
        ) as connection:
            journal.reopen_run(run_id)
            return await drive(options, plan, connection, journal, run_id, restart)


def _mind_moved(
    run_id: str,
    recorded: RecordedPlan,
    moved: OnMoved,
    command: Carrying,
) -> None:
    """Refuse ``command`` or warn, as ``moved`` says, when an agent of the run moved."""
    if moved == "refuse":
        refuse_moved_agents(run_id, recorded, command)
    elif moved == "warn":
        warn_moved_agents(run_id, recorded)


def _check_resumable(run: RunRecord, spec: RunSpec) -> None:
    if run.state.finished:
        raise StateError(
            f"run {run.run_id} already ended ({state_word(run.state)}): nothing to resume; "
            f"amtflow rerun {run.run_id} reruns its failed jobs"
        )
    if run.state is RunState.ABANDONED:
        raise StateError(f"run {run.run_id} was abandoned: it is not resumed")
    if spec.simulate:
        raise StateError(
            f"run {run.run_id} ran on the embedded simulator, which ended with it: nothing to "
            f"re-attach to; amtflow abandon {run.run_id} closes it"
        )


def rerun_targets(
    run: RunRecord, attempts: Mapping[str, JobRunRecord], plan: Plan, named: Sequence[str]
) -> frozenset[str]:
    """The jobs a rerun starts again; UsageError or StateError in one line when refused."""
    _check_rerunnable(run)
    for name in named:
        _check_rerun_job(run, attempts, plan, name)
    targets = frozenset(named) or frozenset(
        name for name, attempt in attempts.items() if attempt.state in _RERUNNABLE
    )
    if not targets:
        raise StateError(
            f"run {run.run_id} has no failed or killed job: nothing to rerun"
            + _late_hint(run.run_id, attempts)
        )
    return targets


def late_starts(
    attempts: Mapping[str, JobRunRecord], plan: Plan, targets: frozenset[str]
) -> list[str]:
    """A line for each job the rerun starts although its latest start is past (the operator
    named it: the engine does not hold it to its latest start again)."""
    lines = []
    for name in sorted(targets):
        planned, attempt = plan.job(name), attempts.get(name)
        latest = planned.times.latest_start if planned else None
        if attempt is not None and _missed_start(attempt) and latest is not None:
            when = shown_time(latest, plan.date)
            lines.append(f"{name}: its latest start {when} is past; started late, as asked")
    return lines


def _missed_start(attempt: JobRunRecord) -> bool:
    return attempt.state is JobState.NOT_RUN and attempt.reason.startswith(MISSED_START)


def _late_hint(run_id: str, attempts: Mapping[str, JobRunRecord]) -> str:
    """How to run the jobs that missed their latest start (a rerun starts them only by name)."""
    missed = sorted(name for name, attempt in attempts.items() if _missed_start(attempt))
    if not missed:
        return ""
    names, them = ", ".join(missed), "it" if len(missed) == 1 else "them"
    command = f"amtflow rerun {run_id} {' '.join(missed)}"
    return f"; missed the latest start: {names} ({command} starts {them} late)"


def _check_rerunnable(run: RunRecord) -> None:
    if run.state.finished:
        return
    if run.state is RunState.ABANDONED:
        raise StateError(f"run {run.run_id} was abandoned: start a new run instead")
    raise StateError(
        f"run {run.run_id} has not finished ({state_word(run.state)}): a run in progress is not "
        f"rerun; amtflow resume {run.run_id} if its runner is gone"
    )


def _check_rerun_job(
    run: RunRecord, attempts: Mapping[str, JobRunRecord], plan: Plan, name: str
) -> None:
    if plan.job(name) is None:
        raise UsageError(f"run {run.run_id} has no job '{name}'")
    attempt = attempts.get(name)
    state = attempt.state if attempt else JobState.PENDING
    if state is JobState.OK:
        raise UsageError(f"job {name} of run {run.run_id} ended OK: it is never started again")
    if state not in _RERUNNABLE and not (attempt and _missed_start(attempt)):
        raise UsageError(
            f"job {name} of run {run.run_id} did not fail ({state_word(state)}): "
            "rerun the jobs it waits for; it follows them"
        )


def _date(run: RunRecord) -> dt.date:
    return dt.date.fromisoformat(run.date)
