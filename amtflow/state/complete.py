"""What shell completion offers for RUN and JOB arguments, read from the journal.

Completion runs at every Tab press: it reads only, never creates a state dir, and a journal that
cannot be read offers nothing rather than an error in the middle of the user's command line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from amtflow.errors import StateError
from amtflow.packing import unpack
from amtflow.runs import RunRecord
from amtflow.state.apart import has_runs, simulated_state_dir
from amtflow.state.journal import Journal
from amtflow.wording import SIMULATED, state_word

RECENT_RUNS = 50


def run_ids(state_dir: Path, incomplete: str) -> list[tuple[str, str]]:
    """Recent run ids starting with ``incomplete``, newest first, each with a short help
    (``NIGHTLY 2026-03-01 failed``); the simulated runs kept apart come after the real ones."""
    found: list[tuple[str, str]] = []
    for folder in (state_dir, simulated_state_dir(state_dir)):
        for run in _runs(folder):
            if run.run_id.startswith(incomplete):
                simulated = f" {SIMULATED}" if run.simulated else ""
                found.append(
                    (run.run_id, f"{run.schedule} {run.date} {state_word(run.state)}{simulated}")
                )
    return found


def job_names(state_dir: Path, run_ref: str, incomplete: str) -> list[str]:
    """The jobs of run ``run_ref`` recorded so far whose names start with ``incomplete``."""
    started, _ = _jobs_of(state_dir, run_ref)
    return [name for name in started if name.startswith(incomplete)]


def planned_job_names(state_dir: Path, run_ref: str, incomplete: str) -> list[str]:
    """As ``job_names``, then the jobs of the run's recorded plan that have not started yet
    (what hold and skip act on); a plan that cannot be read adds none."""
    started, plan = _jobs_of(state_dir, run_ref)
    names = dict.fromkeys([*started, *_planned(plan)])
    return [name for name in names if name.startswith(incomplete)]


def _jobs_of(state_dir: Path, run_ref: str) -> tuple[list[str], str]:
    """The jobs of the run recorded so far, and its recorded plan's JSON ("" when unknown)."""
    if not has_runs(state_dir):
        return [], ""
    try:
        with Journal.open(state_dir, read_only=True) as journal:
            run = journal.run(run_ref)
            return list(journal.latest_attempts(run.run_id)), unpack(run.plan)
    except (StateError, ValueError):
        return [], ""


def _planned(plan: str) -> list[str]:
    """The job names of a recorded plan's JSON (``orchestration.record.RecordedPlan``:
    ``{"jobs": [{"job": {"name": ...}, ...}, ...]}``), read without decoding the rest: a Tab
    press must not pay for the whole plan, nor fail on a damaged one."""
    try:
        jobs = json.loads(plan)["jobs"] if plan else []
        return [_name(job) for job in jobs if _name(job)] if isinstance(jobs, list) else []
    except (ValueError, TypeError, KeyError, RecursionError):
        return []


def _name(planned: Any) -> str:
    master = planned.get("job") if isinstance(planned, dict) else None
    name = master.get("name") if isinstance(master, dict) else None
    return name if isinstance(name, str) else ""


def _runs(state_dir: Path) -> list[RunRecord]:
    if not has_runs(state_dir):
        return []
    try:
        with Journal.open(state_dir, read_only=True) as journal:
            return journal.runs(RECENT_RUNS)
    except StateError:
        return []
