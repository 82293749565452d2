"""A schedule date runs once: what ``amtflow run`` does given the runs already recorded for it.

Pure: the caller reads the recorded runs of the schedule and date and holds the schedule date's
``RunLock`` while it asks, so no runner of that schedule date is alive and a run recorded as
running is one whose runner is gone (crashed, SIGKILLed, its pod evicted). The rules:

- no run of the schedule date with this selection yet: a new run;
- an unfinished run (runner gone, or interrupted by a signal) with this selection: resume it,
  never starting a job twice; with ``--again``: refused, its jobs may still run on the servers;
- an unfinished run with another selection: refused until it is resumed or abandoned (it may
  still have jobs running on the servers, and they may be the same jobs);
- a finished run (ok or failed) with this selection: start nothing, say so, and exit with that
  run's status; with ``--again``: a new run;
- abandoned runs do not count;
- a run whose recorded options cannot be read (a journal edited by hand) has no known selection:
  it refuses the date's runs with one line until it is abandoned (or, finished, ``--again``);
- a run on the embedded simulator (``--simulate``) and a real run are different units: a
  simulated run of a date never makes the real run of that date "already ran", never blocks it
  (its simulator ended with its runner), and the other way round. Simulated runs keep their own
  journal by default (``amtflow.state.apart``); this rule covers journals that hold both.

The selection is the unit with the date: a run of ``--job A --job B`` is its own schedule date
unit, so a later full run of the date is not "already ran" because of it, and neither is a run of
another selection. The selection is compared as a set of job names.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from amtflow.runs import RunState
from amtflow.wording import counts_text, state_word


class Action(str, enum.Enum):
    NEW = "new"
    RESUME = "resume"
    ALREADY_RAN = "already_ran"
    REFUSE = "refuse"


@dataclass(frozen=True)
class PastRun:
    """A recorded run of the schedule date, as the decision needs it."""

    run_id: str
    state: RunState
    selection: tuple[str, ...] = ()  # sorted job names; empty: the whole schedule
    pid: int | None = None
    counts: Mapping[str, int] = field(default_factory=dict)  # JobState value -> jobs
    simulated: bool = False  # made on the embedded simulator
    unreadable: str = ""  # why its recorded options cannot be read (then selection is unknown)

    @property
    def unfinished(self) -> bool:
        return self.state in (RunState.RUNNING, RunState.INTERRUPTED)

    @property
    def exit_status(self) -> int:
        return 0 if self.state is RunState.OK else 1


@dataclass(frozen=True)
class Decision:
    """What to do, with the run it concerns and the one line to show."""

    action: Action
    run: PastRun | None = None
    message: str = ""


def decide(
    schedule: str,
    date: str,
    past: Sequence[PastRun],
    selection: tuple[str, ...] = (),
    *,
    again: bool = False,
    simulated: bool = False,
) -> Decision:
    """The run-once decision for ``schedule`` on ``date``; ``past`` newest first; ``simulated``:
    the run asked for is on the embedded simulator (only simulated runs count then)."""
    day = f"{schedule} {date}"
    unit = day + _selected(selection)
    live = [
        run
        for run in past
        if run.state is not RunState.ABANDONED
        and (run.simulated == simulated or bool(run.unreadable))
    ]
    for run in live:
        if run.unfinished:
            return _unfinished(day, run, selection, again)
    finished = next((run for run in live if run.selection == selection or run.unreadable), None)
    if finished is None or again:
        return Decision(Action.NEW)
    if finished.unreadable:
        return Decision(
            Action.REFUSE, finished, _unreadable(day, finished, "--again starts one now")
        )
    return Decision(Action.ALREADY_RAN, finished, _already_ran(unit, finished))


def _unreadable(day: str, run: PastRun, otherwise: str) -> str:
    """Refusing the date because of ``run``, whose selection is unknown, and the way forward."""
    return (
        f"run {run.run_id} of {day}: {run.unreadable}: amtflow abandon {run.run_id} sets it "
        f"aside (its jobs and logs stay recorded) and the next run of the date is a new one; "
        f"{otherwise}"
    )


def _unfinished(day: str, run: PastRun, selection: tuple[str, ...], again: bool) -> Decision:
    why = _why_unfinished(run)
    unit = day + _selected(selection)
    if run.unreadable:
        return Decision(
            Action.REFUSE,
            run,
            _unreadable(
                day,
                run,
                f"it did not finish ({why}): amtflow resume {run.run_id} carries it on instead",
            ),
        )
    if run.selection != selection:
        return Decision(
            Action.REFUSE,
            run,
            f"run {run.run_id} of {day}{_selected(run.selection)} did not "
            f"finish ({why}): amtflow resume {run.run_id} or amtflow abandon {run.run_id} first",
        )
    if again:
        return Decision(
            Action.REFUSE,
            run,
            f"--again refused: run {run.run_id} of {unit} did not finish ({why}) and may still "
            f"have jobs running on the servers: amtflow resume {run.run_id}, or amtflow abandon "
            f"{run.run_id} first",
        )
    return Decision(Action.RESUME, run, f"resuming run {run.run_id} of {unit}: {why}")


def _why_unfinished(run: PastRun) -> str:
    if run.state is RunState.INTERRUPTED:
        return "it was interrupted"
    pid = f" (pid {run.pid})" if run.pid is not None else ""
    return f"its runner{pid} is gone"


def _already_ran(unit: str, run: PastRun) -> str:
    shown = {s: n for s, n in run.counts.items() if run.state is RunState.OK or s != "ok"}
    counts = counts_text(shown)
    line = f"{unit} already ran: run {run.run_id} ended {state_word(run.state)}"
    line += f" ({counts})" if counts else ""
    if run.state is RunState.FAILED:
        line += f"; amtflow rerun {run.run_id} to rerun failed jobs,"
    else:
        line += ";"
    return line + " --again for a new run"


def _selected(selection: tuple[str, ...]) -> str:
    return f" (jobs {', '.join(selection)})" if selection else ""
