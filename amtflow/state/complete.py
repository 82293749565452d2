"""What shell completion offers for RUN and JOB arguments, read from the journal.

Completion runs at every Tab press: it reads only, never creates a state dir, and a journal that
cannot be read offers nothing rather than an error in the middle of the user's command line.
"""

from __future__ import annotations

from pathlib import Path

from amtflow.errors import StateError
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
    if not has_runs(state_dir):
        return []
    try:
        with Journal.open(state_dir, read_only=True) as journal:
            run = journal.run(run_ref)
            names = journal.latest_attempts(run.run_id)
    except StateError:
        return []
    return [name for name in names if name.startswith(incomplete)]


def _runs(state_dir: Path) -> list[RunRecord]:
    if not has_runs(state_dir):
        return []
    try:
        with Journal.open(state_dir, read_only=True) as journal:
            return journal.runs(RECENT_RUNS)
    except StateError:
        return []
