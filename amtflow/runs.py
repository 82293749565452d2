"""Runs and job runs as records: the states they pass through, stored by the journal and shown.

The enum values are stable strings because they are written to the state database.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from amtflow.batch import JobStatus
from amtflow.operator import OperatorRecord


class JobState(str, enum.Enum):
    """Where one job of a run stands."""

    PENDING = "pending"  # waiting for its dependencies or a free slot
    STARTING = "starting"  # taskId committed, Start sent, no batch request id yet
    RUNNING = "running"  # the server has it (batch request id known), not ended
    OK = "ok"  # ended DONE
    FAILED = "failed"  # ended with any other terminal code (or the client gave up)
    KILLED = "killed"  # the server confirmed KILLED after amtflow asked
    NOT_RUN = "not_run"  # never started: a dependency can't be met, agent disabled, ...
    SKIPPED = "skipped"  # not needed: a recovery job ({on: failed}) whose job ended OK

    @property
    def finished(self) -> bool:
        return self in (
            JobState.OK,
            JobState.FAILED,
            JobState.KILLED,
            JobState.NOT_RUN,
            JobState.SKIPPED,
        )

    @property
    def acceptable(self) -> bool:
        """Whether a run may still end OK with a job in this state."""
        return self in (JobState.OK, JobState.SKIPPED)


class RunState(str, enum.Enum):
    """Where a whole run stands."""

    RUNNING = "running"
    OK = "ok"  # every job ended OK
    FAILED = "failed"  # some job failed or was not run
    INTERRUPTED = "interrupted"  # stopped by a signal; may be resumed
    ABANDONED = "abandoned"  # closed on purpose by ``amtflow abandon``; never resumed

    @property
    def finished(self) -> bool:
        """The run ended by itself, OK or failed: ``run`` repeats its result, ``rerun`` may
        carry it on."""
        return self in (RunState.OK, RunState.FAILED)


@dataclass(frozen=True)
class JobRunRecord:
    """One attempt of one job in a run, as the journal keeps it."""

    run_id: str
    job: str
    attempt: int
    task_id: str
    state: JobState
    batch_request_id: int | None = None
    completion_code: int | None = None
    started_at: str | None = None  # ISO-8601 with zone
    ended_at: str | None = None
    log_path: str | None = None
    last_seq: int = 0  # the last GetMessages seq written to the log
    reason: str = ""  # why it failed or was not run, in words


@dataclass(frozen=True)
class RunRecord:
    """One run of a schedule for a date."""

    run_id: str
    schedule: str
    date: str  # ISO date
    state: RunState
    started_at: str
    ended_at: str | None = None
    definitions: str = ""  # the schedule file the run was started from
    digest: str = ""  # sha256 of the definition files
    pid: int | None = None
    options: str = "{}"  # JSON: what the run was asked for (``runspec.RunSpec``)
    # its resolved plan (``record.RecordedPlan``): JSON, packed (``amtflow.packing``) since
    # issue 16; "" before schema 2
    plan: str | bytes = ""

    @property
    def simulated(self) -> bool:
        """Whether the run was made on the embedded simulator (``--simulate``), as its recorded
        options say (journals written before this was shown say it too)."""
        return self._option("simulate") is True

    @property
    def timezone(self) -> str:
        """The schedule's time zone, where it has one other than UTC (else "": local time)."""
        zone = self._option("timezone")
        return zone if isinstance(zone, str) else ""

    def _option(self, key: str) -> object:
        try:
            saved = json.loads(self.options or "{}")
        except ValueError:
            return None
        return saved.get(key) if isinstance(saved, dict) else None


class Ended(Protocol):
    """How an attempt ended, as an attempt's result and its journal record both say it."""

    @property
    def state(self) -> JobState: ...
    @property
    def completion_code(self) -> int | None: ...
    @property
    def reason(self) -> str: ...
    @property
    def batch_request_id(self) -> int | None: ...
    @property
    def log_path(self) -> str | None: ...


@dataclass(frozen=True)
class JobOutcome:
    """How a job of the run ended, after all its attempts: its last attempt's end."""

    name: str
    state: JobState
    attempts: int = 0
    completion_code: int | None = None
    reason: str = ""
    batch_request_id: int | None = None
    log_path: str | None = None
    late: str = ""  # why it is late (its deadline passed before it ended), or ""
    operator: OperatorRecord | None = None  # the skip or mark-ok that makes it count as OK

    @classmethod
    def of(cls, name: str, attempts: int, last: Ended) -> JobOutcome:
        """The outcome of job ``name`` whose attempt ``attempts`` ended as ``last`` says."""
        return cls(
            name,
            last.state,
            attempts,
            last.completion_code,
            last.reason,
            last.batch_request_id,
            last.log_path,
        )

    @classmethod
    def recorded(cls, record: JobRunRecord) -> JobOutcome:
        """How a job ended, as its latest recorded attempt says."""
        return cls.of(record.job, record.attempt, record)

    @property
    def ok(self) -> bool:
        return self.state is JobState.OK

    @property
    def acceptable(self) -> bool:
        """Whether the run may still end OK with this job so (an operator's word included)."""
        return self.state.acceptable or self.operator is not None


@dataclass(frozen=True)
class KillAnswer:
    """What the server answered a kill of one job of a run."""

    run_id: str
    job: str
    batch_request_id: int
    status: JobStatus


@dataclass(frozen=True)
class AbandonedJob:
    """What became of one job that had not ended when its run was abandoned."""

    job: str
    batch_request_id: int | None
    state: JobState  # as now recorded: KILLED, OK/FAILED (it ended by itself), or unchanged
    note: str  # in words: killed, goes on (kill not allowed), ...
    completion_code: int | None = None


@dataclass(frozen=True)
class Abandoned:
    run_id: str
    jobs: tuple[AbandonedJob, ...]


class Began(str, enum.Enum):
    """How a run's carrying out began: the moments others hook onto (notifications)."""

    NEW = "new"  # a new run of the schedule date
    RESUMED = "resumed"  # carried on after its runner died ("run resumed")
    RERUN = "rerun"  # failed jobs started again inside a finished run (``amtflow rerun``)
    ALREADY_RAN = "already_ran"  # the schedule date had run: nothing was started


@dataclass(frozen=True)
class RunResult:
    """How a run (or its carrying on) ended: what the edge writes out and exits with."""

    run_id: str
    state: RunState
    outcomes: tuple[JobOutcome, ...]
    began: Began = Began.NEW
    before: RunState | None = None  # the run's state before a resume or rerun
    schedule: str = ""
    date: dt.date | None = None
    elapsed: float = 0.0  # seconds it was carried out (a date that already ran: that run's)
    signal: int | None = None  # the signal that interrupted it
    # each job of the schedule carried out: its agent and the jobs it depends on (the run
    # report's facts, from the plan in hand: decoding the recorded plan costs seconds)
    jobs: Mapping[str, tuple[str, tuple[str, ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def exit_status(self) -> int:
        """0 every job OK, 1 a job failed or was not run, 128 + the signal that interrupted it."""
        if self.signal is not None:
            return 128 + self.signal
        return 0 if self.state is RunState.OK else 1

    @property
    def recovered(self) -> bool:
        """A rerun turned a failed schedule date OK ("run recovered")."""
        return (
            self.began is Began.RERUN
            and self.before is RunState.FAILED
            and self.state is RunState.OK
        )
