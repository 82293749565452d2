"""What ``amtflow status`` shows, read from the journal: recent runs, or one run's jobs.

Reading never creates a state dir or a database just to find it empty.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from amtflow.errors import StateError
from amtflow.runs import JobRunRecord, RunRecord, RunState
from amtflow.state.apart import simulated_state_dir
from amtflow.state.files import is_file
from amtflow.state.journal import Journal, journal_path


@dataclass(frozen=True)
class RunSummary:
    """A run with how its jobs ended (each job counted once, by its latest attempt)."""

    run: RunRecord
    counts: dict[str, int] = field(default_factory=dict)  # JobState value -> jobs
    duration_s: float | None = None  # to the end, or to now while running
    stale: bool = False  # recorded RUNNING, but its process is gone (killed, crashed)


@dataclass(frozen=True)
class RunDetail:
    """One run and the latest attempt of each of its jobs."""

    summary: RunSummary
    jobs: tuple[JobRunRecord, ...]
    # moments of the jobs' time windows: job -> JobFlag value -> (when, detail)
    marks: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)

    def waiting(self) -> dict[str, str]:
        """Jobs waiting for their start time, with no attempt yet: job -> ISO time waited for."""
        started = {job.job for job in self.jobs}
        return {
            job: marks["waiting"][1]
            for job, marks in self.marks.items()
            if "waiting" in marks and job not in started
        }


@dataclass(frozen=True)
class StatusReport:
    """The answer of ``amtflow status``: ``detail`` for one run, else ``runs`` (maybe empty)."""

    state_dir: Path
    runs: tuple[RunSummary, ...] = ()
    detail: RunDetail | None = None
    simulated_apart: Path | None = None  # where simulated runs are kept, when there are some


def read_status(state_dir: Path, run_id: str | None = None, *, limit: int = 20) -> StatusReport:
    """Recent runs, or the jobs of ``run_id`` (an id or a unique prefix); StateError if unknown."""
    apart = simulated_state_dir(state_dir)
    apart_shown = apart if run_id is None and is_file(journal_path(apart)) else None
    if not is_file(journal_path(state_dir)):
        if run_id is not None:
            raise StateError(f"unknown run '{run_id}' (no runs yet in {state_dir})")
        return StatusReport(state_dir, simulated_apart=apart_shown)
    with Journal.open(state_dir, read_only=True) as journal:
        if run_id is None:
            runs = tuple(_summary(journal, run) for run in journal.runs(limit))
            return StatusReport(state_dir, runs=runs, simulated_apart=apart_shown)
        run = journal.run(run_id)
        jobs = tuple(journal.latest_attempts(run.run_id).values())
        marks = journal.job_marks(run.run_id)
        return StatusReport(state_dir, detail=RunDetail(_summarise(run, jobs), jobs, marks))


def _summary(journal: Journal, run: RunRecord) -> RunSummary:
    return _summarise(run, journal.latest_attempts(run.run_id).values())


def _summarise(run: RunRecord, jobs: Iterable[JobRunRecord]) -> RunSummary:
    counts = Counter(job.state.value for job in jobs)
    return RunSummary(run, dict(counts), duration_seconds(run), _stale(run))


def duration_seconds(run: RunRecord | JobRunRecord) -> float | None:
    """Seconds from start to end (or to now if not ended); None if it never started."""
    if not run.started_at:
        return None
    start = dt.datetime.fromisoformat(run.started_at)
    end = dt.datetime.fromisoformat(run.ended_at) if run.ended_at else _now()
    return max(0.0, (end - start).total_seconds())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _stale(run: RunRecord) -> bool:
    return run.state is RunState.RUNNING and run.pid is not None and not _alive(run.pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
