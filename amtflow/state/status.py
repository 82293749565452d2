"""What ``amtflow status`` shows, read from the journal: recent runs, or one run's jobs.

Reading never creates a state dir or a database just to find it empty.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from amtflow.errors import StateError
from amtflow.model import Retry
from amtflow.operator import OperatorRecord, OperatorView
from amtflow.runs import JobRunRecord, JobState, RunRecord, RunState
from amtflow.state.apart import simulated_state_dir
from amtflow.state.files import is_file, refuse_unusual
from amtflow.state.journal import Journal, journal_path


@dataclass(frozen=True)
class RunSummary:
    """A run with how its jobs ended (each job counted once, by its latest attempt)."""

    run: RunRecord
    counts: dict[str, int] = field(default_factory=dict)  # JobState value -> jobs
    duration_s: float | None = None  # to the end, or to now while running
    stale: bool = False  # recorded RUNNING, but its process is gone (killed, crashed)


@dataclass(frozen=True)
class Notice:
    """One notification delivery of a run, made or not (as the journal recorded it: no URL)."""

    notification: str
    url_index: int
    event: str
    delivered: bool
    tries: int
    reason: str
    at: str


@dataclass(frozen=True)
class RunDetail:
    """One run, the latest attempt of each of its jobs, every job it planned, and its
    notifications."""

    summary: RunSummary
    jobs: tuple[JobRunRecord, ...]
    # moments of the jobs' time windows: job -> JobFlag value -> (when, detail)
    marks: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    planned: tuple[str, ...] = ()  # every job of the run's recorded plan, in its order
    retries: Mapping[str, Retry] = field(default_factory=dict)  # the planned retry of each job
    actions: tuple[OperatorRecord, ...] = ()  # what operators did, in order
    notices: tuple[Notice, ...] = ()

    @property
    def operator(self) -> OperatorView:
        return OperatorView.of(self.actions)

    def unstarted(self) -> list[str]:
        """Planned jobs with no attempt and no decision yet (waiting, held, skipped)."""
        recorded = {job.job for job in self.jobs}
        return [name for name in self.planned if name not in recorded]

    def next_attempt(self, job: JobRunRecord) -> tuple[str, int, int] | None:
        """(when, number, of) of the retry a failed job of a run in progress waits for."""
        retry = self.retries.get(job.job)
        live = self.summary.run.state is RunState.RUNNING and not self.summary.stale
        if retry is None or not live or job.state not in (JobState.FAILED, JobState.KILLED):
            return None
        if job.attempt > retry.attempts or job.job in self.operator.marked_ok:
            return None
        if retry.on_codes and job.completion_code not in retry.on_codes:
            return None
        ended = dt.datetime.fromisoformat(job.ended_at or self.summary.run.started_at)
        when = ended + dt.timedelta(seconds=retry.delay)
        return when.isoformat(timespec="milliseconds"), job.attempt + 1, retry.attempts + 1

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
        refuse_unusual(journal_path(state_dir))  # a folder named journal.db is no "no runs"
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
        actions = tuple(journal.operator_actions(run.run_id))
        notices = tuple(
            Notice(name, index, event, bool(delivered), tries, reason, at)
            for name, index, event, delivered, tries, reason, at in journal.notices(run.run_id)
        )
    planned, retries = _planned(run)
    summary = _summarise(run, jobs)
    detail = RunDetail(summary, jobs, marks, planned, retries, actions, notices)
    return StatusReport(state_dir, detail=detail)


def _planned(run: RunRecord) -> tuple[tuple[str, ...], dict[str, Retry]]:
    """Every job of the run's recorded plan and its retry (none known for runs recorded
    before plans were kept, or whose plan cannot be read: status still shows what started)."""
    if not run.plan:
        return (), {}
    # imported here: it brings the definitions loader, some 0.2 s of every ``amtflow status``
    # start that never reads a plan (the list of runs)
    from amtflow.orchestration.record import RecordedPlan

    try:
        jobs = RecordedPlan.from_json(run.plan, run.run_id).jobs
    except StateError:
        return (), {}
    return tuple(job.name for job in jobs), {job.name: job.job.retry for job in jobs}


def _summary(journal: Journal, run: RunRecord) -> RunSummary:
    return _summarise(run, journal.latest_attempts(run.run_id).values())


def _summarise(run: RunRecord, jobs: Iterable[JobRunRecord]) -> RunSummary:
    counts = Counter(job.state.value for job in jobs)
    return RunSummary(run, dict(counts), duration_seconds(run), is_stale(run))


def duration_seconds(run: RunRecord | JobRunRecord) -> float | None:
    """Seconds from start to end (or to now if not ended); None if it never started."""
    if not run.started_at:
        return None
    start = dt.datetime.fromisoformat(run.started_at)
    end = dt.datetime.fromisoformat(run.ended_at) if run.ended_at else _now()
    return max(0.0, (end - start).total_seconds())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def is_stale(run: RunRecord) -> bool:
    """Recorded as running, but its runner's process is gone (killed, crashed)."""
    return run.state is RunState.RUNNING and run.pid is not None and not _alive(run.pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
