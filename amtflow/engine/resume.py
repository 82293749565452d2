"""Resume as data: where each job of a run carries on from, decided from its recorded attempts.

One pure function, ``resume_point``, reads a job's latest recorded attempt (none for a new run)
and says what the engine does with the job:

- ``FRESH``: start attempt ``attempt`` with a new task id (1 for a job never started, the next one
  after a failed attempt whose retry had not begun, or after a failed job an operator reruns);
- ``REPEAT_START``: a Start was sent (its task id recorded) but its answer was never recorded:
  send it again with the same task id, which the server never starts twice;
- ``REATTACH``: the server's job is known (batch request id and log file): watch it to its end,
  carrying on its log;
- ``SETTLED``: the job ended and is not started again: its recorded attempt is its outcome.

A job recorded NOT_RUN or SKIPPED is decided again (``FRESH`` 1): its dependencies answer the same.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from amtflow.model import Retry
from amtflow.plan import PlannedJob
from amtflow.runs import JobRunRecord, JobState

_DECIDED_AGAIN = (JobState.NOT_RUN, JobState.SKIPPED)


class Resume(str, enum.Enum):
    FRESH = "fresh"
    REPEAT_START = "repeat_start"
    REATTACH = "reattach"
    SETTLED = "settled"


@dataclass(frozen=True)
class ResumePoint:
    """Where one job carries on from: what to do, with which attempt, and the record it follows
    (the attempt carried on, the one a retry follows, or the one that settled it)."""

    resume: Resume = Resume.FRESH
    attempt: int = 1
    record: JobRunRecord | None = None

    @property
    def first_start(self) -> bool:
        """The job's first Start: its start time is awaited and its latest start checked."""
        return self.resume is Resume.FRESH and self.attempt == 1

    @property
    def carried_on(self) -> JobRunRecord | None:
        """The recorded attempt the first attempt carries on (repeat Start, re-attach)."""
        carried = self.resume in (Resume.REPEAT_START, Resume.REATTACH)
        return self.record if carried else None


_FRESH = ResumePoint()  # most jobs' point: one shared (frozen) instance


def retries(retry: Retry, state: JobState, completion_code: int | None, number: int) -> bool:
    """Whether attempt ``number``, which ended ``state`` with ``completion_code``, is retried."""
    if number > retry.attempts or state not in (JobState.FAILED, JobState.KILLED):
        return False
    return not retry.on_codes or completion_code in retry.on_codes


def resume_point(record: JobRunRecord | None, retry: Retry, *, rerun: bool = False) -> ResumePoint:
    """Where a job carries on from, given its latest recorded attempt; ``rerun``: an operator
    asked for it to start again (``amtflow rerun``)."""
    if record is None or record.state in _DECIDED_AGAIN:
        return _FRESH
    if not record.state.finished:
        known = record.batch_request_id is not None and bool(record.log_path)
        return ResumePoint(
            Resume.REATTACH if known else Resume.REPEAT_START, record.attempt, record
        )
    if rerun or retries(retry, record.state, record.completion_code, record.attempt):
        return ResumePoint(Resume.FRESH, record.attempt + 1, record)
    return ResumePoint(Resume.SETTLED, record.attempt, record)


def resume_points(
    jobs: Iterable[PlannedJob],
    attempts: Mapping[str, JobRunRecord] | None,
    rerun: Collection[str] = (),
) -> dict[str, ResumePoint]:
    """The resume point of every job of a plan (all ``FRESH`` 1 for a new run)."""
    recorded = attempts or {}
    return {
        job.name: resume_point(recorded.get(job.name), job.job.retry, rerun=job.name in rerun)
        for job in jobs
    }


def settled_record(
    point: ResumePoint, *, marked_ok: bool, rerun: bool, interrupted: bool
) -> JobRunRecord | None:
    """The recorded attempt that is a job's outcome, or None when it is (started) again: it
    settled, or it ended and was marked OK by an operator (its retry is not begun), or the run
    is interrupted (no retry is begun then either). A rerun is decided as any job."""
    if point.resume is Resume.SETTLED:
        return point.record
    ended = point.record if point.record and point.record.state.finished else None
    if ended is not None and (marked_ok or interrupted) and not rerun:
        return ended
    return None
