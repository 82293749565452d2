"""Simulated runs are kept apart from real ones: their own journal and logs.

A run on the embedded simulator (``amtflow run --simulate``) whose state dir and log dir were not
chosen (no ``--state-dir``/``--log-dir``, no ``AMTFLOW_STATE_DIR``/``AMTFLOW_LOG_DIR``) records in
``<state dir>/simulated/`` and writes its job logs to ``<state dir>/simulated/logs/``: trying a
schedule out never adds runs to the real journal, logs to the real log tree, or a "this date
already ran" to the real run of that date. Commands given a run id look for it in the state dir,
then in its ``simulated/`` folder, so ``amtflow status RUN`` works for both.
"""

from __future__ import annotations

from pathlib import Path

from amtflow.errors import StateError
from amtflow.state.files import is_file
from amtflow.state.journal import Journal, journal_path

SIMULATED_FOLDER = "simulated"


def simulated_state_dir(state_dir: Path) -> Path:
    """Where simulated runs are recorded by default, for the state dir ``state_dir``."""
    return state_dir / SIMULATED_FOLDER


def simulated_log_dir(state_dir: Path) -> Path:
    """Where simulated runs write their job logs by default."""
    return simulated_state_dir(state_dir) / "logs"


def has_runs(state_dir: Path) -> bool:
    """Whether a journal exists in ``state_dir`` (never creates one)."""
    return is_file(journal_path(state_dir))


def state_dir_of(state_dir: Path, run_ref: str) -> Path:
    """The state dir that records ``run_ref`` (an id or prefix): ``state_dir``, or its
    simulated folder when only that one knows the run. Unknown runs give ``state_dir`` back, so
    the error the caller then raises names the dir the user asked about."""
    apart = simulated_state_dir(state_dir)
    if not has_runs(apart) or _knows(state_dir, run_ref):
        return state_dir
    return apart if _knows(apart, run_ref) else state_dir


def _knows(state_dir: Path, run_ref: str) -> bool:
    if not has_runs(state_dir):
        return False
    try:
        with Journal.open(state_dir, read_only=True) as journal:
            journal.run(run_ref)
    except StateError:
        return False
    return True
