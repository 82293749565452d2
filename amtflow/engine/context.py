"""What every job of a run shares: identity, journal, log dir, timing policies, the observer."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from amtflow.engine.polling import PollPolicy
from amtflow.joblog.writer import configured_max_bytes
from amtflow.operator import OperatorRecord
from amtflow.runs import JobState


class JobFlag(str, enum.Enum):
    """A moment of a job's time window (stored in the journal as a mark; stable values).

    WAITING: it waits for its start_time; LATE: its deadline passed before it ended (it goes on);
    MISSED_START: it could not start by its latest_start, so it is not run.
    """

    WAITING = "waiting"
    LATE = "late"
    MISSED_START = "missed_start"


@dataclass(frozen=True)
class JobEvent:
    """A job changed state, or reached a moment of its time window (``flag``): what the
    terminal view and the plain log show, and what notifications can hook on."""

    job: str
    state: JobState
    attempt: int = 0
    batch_request_id: int | None = None
    completion_code: int | None = None
    reason: str = ""
    flag: JobFlag | None = None


class Recorder(Protocol):
    """The journal's writing side, as the engine uses it (``amtflow.state.Journal`` fits). The
    bodies here record nothing: ``NullRecorder`` is this protocol as it stands."""

    def grouped(
        self, schedule: Callable[[Callable[[], None]], object]
    ) -> AbstractContextManager[None]:
        """Within: state writes of one loop tick share a commit (``state/group.py``)."""
        return contextlib.nullcontext()

    def new_attempt(self, run_id: str, job: str, attempt: int, task_id: str) -> None:
        return None

    def new_attempts(
        self, rows: Sequence[tuple[str, str, int, str]]
    ) -> Mapping[tuple[str, int], OperatorRecord]:
        """Record the rows in one durable transaction; answer those an operator withheld."""
        return {}

    async def new_attempts_off_loop(
        self, rows: Sequence[tuple[str, str, int, str]]
    ) -> Mapping[tuple[str, int], OperatorRecord]:
        """``new_attempts``, the event loop going on while the commit is made where the recorder
        can (the journal: on a worker thread, ``state/aside.py``)."""
        return self.new_attempts(rows)

    def set_batch_request_id(
        self, run_id: str, job: str, attempt: int, batch_request_id: int, log_path: str
    ) -> None:
        return None

    def set_last_seq(self, run_id: str, job: str, attempt: int, seq: int) -> None:
        return None

    def finish_attempt(
        self,
        run_id: str,
        job: str,
        attempt: int,
        state: JobState,
        *,
        completion_code: int | None,
        reason: str = "",
        log_path: str | None = None,
        last_seq: int | None = None,
    ) -> None:
        return None

    def mark_not_run(
        self, run_id: str, job: str, reason: str, state: JobState = JobState.NOT_RUN
    ) -> None:
        return None

    def flag_job(self, run_id: str, job: str, flag: str, detail: str = "") -> None:
        return None


class NullRecorder(Recorder):
    """Records nothing: for runs without a journal (tests, benchmarks)."""


def _ignore(event: JobEvent) -> None:
    pass


def _no_actions(after: int) -> list[OperatorRecord]:
    return []


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class RunContext:
    """Everything the jobs of one run share."""

    run_id: str
    schedule: str
    date: dt.date
    log_dir: Path
    recorder: Recorder = field(default_factory=NullRecorder)
    observe: Callable[[JobEvent], None] = _ignore
    poll: PollPolicy = PollPolicy()
    messages_every: float = 2.0  # least seconds between message reads while a job runs
    messages_cap: float = 30.0  # most seconds between them, for long jobs
    kill_grace: float = 10.0  # seconds to wait for the server to confirm a kill
    now: Callable[[], dt.datetime] = _utc_now  # the wall clock of start times and deadlines
    max_log_bytes: int = field(default_factory=configured_max_bytes)  # per job log
    # the operator actions on the run recorded after a seq (the journal's), read on each tick
    operator_actions: Callable[[int], list[OperatorRecord]] = _no_actions
    operator_tick: float = 0.5  # seconds between reads of new operator actions
