"""The validated definitions as frozen dataclasses.

Built by ``amtflow.definitions`` once the YAML has loaded, passed the schema and the cross-checks;
defaults are applied (a job's ``agent`` and ``application`` come from its schedule's ``defaults``
when not set on the job). Strings may still hold ``[[PROPERTY]]`` references: planning resolves
them for a date. Models do no I/O; a password is only a reference to where it can be read.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from amtflow.task import AmtTask
from amtflow.timeofday import DEFAULT_ZONE, TimeOfDay


@dataclass(frozen=True, order=True)
class Location:
    """Where a YAML node stands: file path, 1-based line and column."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


def _here() -> Location | None:
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class SecretRef:
    """Where a password is read from: an environment variable or a file. Never the value."""

    env: str | None = None
    file: str | None = None

    def __str__(self) -> str:
        return f"env var {self.env}" if self.env else f"file {self.file}"


@dataclass(frozen=True)
class BatchUser:
    """An AMT API user: the identifier that gets a logon token, and where its password is."""

    name: str
    identifier: str
    password: SecretRef
    location: Location | None = _here()


@dataclass(frozen=True)
class Tls:
    """TLS settings of an agent; verification is on unless explicitly turned off."""

    verify: bool = True
    ca_bundle: str | None = None  # absolute path, resolved against the defining file


class Communication(str, enum.Enum):
    ENABLED = "enabled"
    DISABLED = "disabled"


@dataclass(frozen=True)
class Agent:
    """A connection to one AMT Batch Server."""

    name: str
    batch_server_url: str
    batch_user: str
    type: str = "AsyscoAMT"
    retain_log_files: int = 30
    communication: Communication = Communication.ENABLED
    allow_kill_job: bool = False
    max_concurrent_jobs: int = 20
    tls: Tls = Tls()
    location: Location | None = _here()

    @property
    def enabled(self) -> bool:
        return self.communication is Communication.ENABLED


@dataclass(frozen=True)
class Calendar:
    """A named set of dates, such as holidays."""

    name: str
    dates: frozenset[dt.date] = frozenset()
    location: Location | None = _here()


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Frequency:
    """On which dates a schedule, or a job within it, runs.

    ``days`` empty means every day; ``dates`` adds dates outside ``days``; the exclusions win.
    """

    days: frozenset[str] = frozenset()
    dates: frozenset[dt.date] = frozenset()
    exclude_dates: frozenset[dt.date] = frozenset()
    exclude_calendar: str | None = None
    on_request: bool = False


class Condition(str, enum.Enum):
    """What a dependency waits for: its job ended OK, failed, or either."""

    OK = "ok"
    FAILED = "failed"
    FINISHED = "finished"


@dataclass(frozen=True)
class Dependency:
    job: str
    on: Condition = Condition.OK
    location: Location | None = _here()


@dataclass(frozen=True)
class Retry:
    """Re-run a failed job up to ``attempts`` more times, ``delay`` seconds apart.

    ``on_codes`` empty means any failing completion code is retried.
    """

    attempts: int = 0
    delay: float = 0.0
    on_codes: frozenset[int] = frozenset()


@dataclass(frozen=True)
class MasterJob:
    """One AMT batch job or script of a schedule: its task, where it runs, and when."""

    name: str
    task: AmtTask  # unresolved: its texts may hold [[PROPERTY]] references
    agent: str
    depends_on: tuple[Dependency, ...] = ()
    max_run_time: float | None = None  # seconds
    retry: Retry = Retry()
    frequency: Frequency | None = None
    start_time: TimeOfDay | None = None  # not started before
    latest_start: TimeOfDay | None = None  # else not run
    deadline: TimeOfDay | None = None  # else flagged late
    location: Location | None = _here()
    notify: tuple[str, ...] = ()  # notifications told of this job's events, besides the schedule's


@dataclass(frozen=True)
class Schedule:
    """A named set of master jobs run together for a date."""

    name: str
    jobs: tuple[MasterJob, ...]
    frequency: Frequency = Frequency()
    start_time: TimeOfDay | None = None  # when exported triggers start its run
    timezone: str = DEFAULT_ZONE  # IANA name of the zone of all its times
    location: Location | None = _here()
    notify: tuple[str, ...] = ()  # notifications told of its run and job events

    def job(self, name: str) -> MasterJob | None:
        return self._by_name.get(name)

    @functools.cached_property
    def _by_name(self) -> dict[str, MasterJob]:
        """Its jobs by name (the first of a name), made once: a lookup per job of a large run
        stays O(1)."""
        by_name: dict[str, MasterJob] = {}
        for job in self.jobs:
            by_name.setdefault(job.name, job)
        return by_name


class NotifyEvent(str, enum.Enum):
    """What a notification can be told of (the schema's list; stable strings, journalled)."""

    RUN_STARTED = "run_started"
    RUN_OK = "run_ok"
    RUN_FAILED = "run_failed"
    JOB_FAILED = "job_failed"  # failed or killed, after its last attempt
    JOB_LATE = "job_late"  # past its deadline
    JOB_MISSED_START = "job_missed_start"  # not started by its latest start
    RUN_RESUMED = "run_resumed"  # a run whose runner died was picked up again
    RUN_RECOVERED = "run_recovered"  # a rerun turned a failed schedule date OK


@dataclass(frozen=True)
class Notification:
    """Where messages about some events go: Apprise URLs, each only a reference to a secret."""

    name: str
    urls: tuple[SecretRef, ...]
    events: frozenset[NotifyEvent]
    location: Location | None = _here()


@dataclass(frozen=True)
class Definitions:
    """Everything one set of definition files (with their includes) defines."""

    properties: Mapping[str, str] = field(default_factory=dict)
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    batch_users: Mapping[str, BatchUser] = field(default_factory=dict)
    agents: Mapping[str, Agent] = field(default_factory=dict)
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    notifications: Mapping[str, Notification] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    digest: str = ""  # sha256 over the files' bytes, for the run journal
