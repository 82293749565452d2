"""Waiting for what a runner in another process has done, as its journal shows it.

A test that acts on a run in progress (kill, SIGTERM, SIGKILL, a report of the run so far) must
wait until the runner got there, never for a fixed time: on a loaded machine (CI's two cores run
two workers, each starting subprocesses) a runner can take seconds to record a Start's answer.
"""

from __future__ import annotations

import time
from pathlib import Path

from amtflow.errors import AmtflowError
from amtflow.runs import JobRunRecord
from amtflow.state import Journal
from amtflow.state.journal import journal_path

PATIENCE_S = 120.0  # far past any wait seen under load; reached only when something is wrong


def latest_attempts(state_dir: Path) -> tuple[str, dict[str, JobRunRecord]]:
    """The newest run's id and the latest attempt of each of its jobs, or ("", {}) if none yet.

    Polled from the moment the runner starts: the journal appears whole, in WAL mode
    (tests/state/test_polled.py).
    """
    if not journal_path(state_dir).exists():
        return "", {}
    try:
        with Journal.open(state_dir, read_only=True) as journal:
            runs = journal.runs(1)
            return (runs[0].run_id, journal.latest_attempts(runs[0].run_id)) if runs else ("", {})
    except AmtflowError:  # the runner is creating the journal right now: read it again
        return "", {}


def wait_for_batch_request_id(state_dir: Path, job: str, timeout: float = PATIENCE_S) -> str:
    """Wait until the newest run of ``state_dir`` has recorded ``job``'s batch request id (its
    runner got the answer to the Start); return that run's id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run_id, attempts = latest_attempts(state_dir)
        if job in attempts and attempts[job].batch_request_id is not None:
            return run_id
        time.sleep(0.2)
    raise AssertionError(f"{job}'s batch request id not recorded within {timeout:.0f} s")


UNTIL_TOLD_S = 3600.0  # a simulated job this long runs until the test moves the clock past it


class MovableClock:
    """A simulator's clock (``start_simulator(..., clock=MovableClock())``) that the test moves.

    A job of ``UNTIL_TOLD_S`` seconds then ends when the test says so, not when a fixed duration
    is over: what the test does meanwhile (a hold, a skip, a SIGKILL) cannot come too late,
    however slowly a loaded machine runs the CLI. Other jobs run in real time as usual.
    """

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.ahead

    def end_long_jobs(self) -> None:
        """Move past the end of every job of ``UNTIL_TOLD_S`` started so far."""
        self.ahead += UNTIL_TOLD_S
