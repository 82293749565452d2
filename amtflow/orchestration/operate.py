"""An operator's actions on a recorded run, from any terminal: hold, release, skip, mark OK.

Each is checked and recorded in the journal with who (the OS user) and when, all the named jobs
or none. A run in progress picks them up on its runner's next scheduling tick; a run whose runner
is gone honours them when it is resumed; a finished run marked OK is carried on at once, the way
``amtflow rerun`` does, without starting the marked jobs again (and, as rerun, refused with nothing
recorded when an agent of the run is now defined at another server: ``moved``).
"""

from __future__ import annotations

import datetime as dt
import enum
import getpass
import os
import pwd
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from amtflow.errors import UsageError
from amtflow.operator import OperatorAction, OperatorRecord
from amtflow.orchestration.drive import RunOptions
from amtflow.orchestration.moved import refuse_moved_agents
from amtflow.orchestration.record import RecordedPlan, recorded_plan
from amtflow.orchestration.recovery import carry_on
from amtflow.runs import RunRecord, RunResult, RunState
from amtflow.state import Journal, RunLock
from amtflow.state.status import is_stale


class Runner(str, enum.Enum):
    """Who acts on the recorded action."""

    LIVE = "live"  # the run's runner, on its next tick
    GONE = "gone"  # nobody yet: the run's next resume
    CARRIED_ON = "carried_on"  # this command: the finished run was carried on


@dataclass(frozen=True)
class ActionAnswer:
    """What was recorded, and what becomes of it."""

    run: RunRecord
    records: tuple[OperatorRecord, ...]
    runner: Runner
    result: RunResult | None = None  # the carried-on run of a finished run marked OK


def operator_name() -> str:
    """The OS user running this command (its uid when the system does not name it)."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return f"uid {os.geteuid()}"


def record_action(
    state_dir: Path,
    run_ref: str,
    jobs: Sequence[str],
    action: OperatorAction,
    environ: Mapping[str, str],
) -> ActionAnswer:
    """Record ``action`` on ``jobs`` of a run in progress, or of one whose runner is gone."""
    with Journal.open(state_dir) as journal:
        run = journal.run(run_ref)
        records = _record(journal, run, jobs, action, environ)
        return ActionAnswer(run, records, _runner(run))


async def mark_ok(
    run_ref: str, jobs: Sequence[str], shown: RunOptions, environ: Mapping[str, str]
) -> ActionAnswer:
    """``amtflow mark-ok``: record it; a finished run is carried on at once (as ``rerun``).

    A finished run is refused, nothing recorded, when the definitions now put an agent of it
    on another server (``moved``), as ``rerun`` is."""
    action = OperatorAction.MARK_OK
    with Journal.open(shown.state_dir) as journal:
        run = journal.run(run_ref)
        if not run.state.finished:
            records = _record(journal, run, jobs, action, environ)
            return ActionAnswer(run, records, _runner(run))
        date = dt.date.fromisoformat(run.date)
        with RunLock.acquire(shown.state_dir, run.schedule, date, run.run_id):
            run = journal.run(run.run_id)  # read again under the lock
            recorded = recorded_plan(run, environ)
            named = _named(run, recorded, jobs)
            refuse_moved_agents(run.run_id, recorded, "mark-ok")  # before the mark is recorded
            records = _record_named(journal, run, named, action)
            result = await carry_on(
                journal, run.run_id, shown, rerun=(), marked=True, moved="checked"
            )
    return ActionAnswer(run, records, Runner.CARRIED_ON, result)


def _runner(run: RunRecord) -> Runner:
    live = run.state is RunState.RUNNING and not is_stale(run)
    return Runner.LIVE if live else Runner.GONE


def _record(
    journal: Journal,
    run: RunRecord,
    jobs: Sequence[str],
    action: OperatorAction,
    environ: Mapping[str, str],
) -> tuple[OperatorRecord, ...]:
    named = _named(run, recorded_plan(run, environ), jobs)
    return _record_named(journal, run, named, action)


def _named(run: RunRecord, recorded: RecordedPlan, jobs: Sequence[str]) -> list[str]:
    """``jobs`` each once, in the order given; UsageError for one the run did not plan."""
    planned = {job.name for job in recorded.jobs}
    named = list(dict.fromkeys(jobs))
    for job in named:
        if job not in planned:
            raise UsageError(f"run {run.run_id} has no job '{job}'")
    return named


def _record_named(
    journal: Journal, run: RunRecord, named: list[str], action: OperatorAction
) -> tuple[OperatorRecord, ...]:
    return tuple(journal.record_operator_actions(run.run_id, named, action, operator_name()))
