"""Resume as data: a job's latest recorded attempt decides where it carries on, as a table."""

from __future__ import annotations

import pytest

from amtflow.engine.resume import (
    Resume,
    ResumePoint,
    resume_point,
    resume_points,
    settled_record,
)
from amtflow.model import Retry
from amtflow.runs import JobRunRecord, JobState

NO_RETRY = Retry()
TWO_RETRIES = Retry(attempts=2)
ON_ERROR_ONLY = Retry(attempts=2, on_codes=frozenset({11}))


def record(
    state: JobState,
    attempt: int = 1,
    *,
    code: int | None = None,
    request: int | None = None,
    log: str | None = None,
) -> JobRunRecord:
    return JobRunRecord(
        "run-1", "J", attempt, f"task-{attempt}", state, request, code, log_path=log
    )


STARTING = record(JobState.STARTING)  # the Start was sent; its answer was never recorded
ANSWERED = record(JobState.RUNNING, request=42)  # the answer was recorded, the log was not begun
RUNNING = record(JobState.RUNNING, 2, request=42, log="/logs/J-42.log")
FAILED_1 = record(JobState.FAILED, code=11)
FAILED_3 = record(JobState.FAILED, 3, code=11)
KILLED_1 = record(JobState.KILLED, code=3)
ABORTED_1 = record(JobState.FAILED, code=12)
OK_1 = record(JobState.OK, code=4)


@pytest.mark.parametrize(
    ("recorded", "retry", "rerun", "expected"),
    [
        # never started, or decided again: a first Start
        (None, NO_RETRY, False, (Resume.FRESH, 1)),
        (record(JobState.NOT_RUN), NO_RETRY, False, (Resume.FRESH, 1)),
        (record(JobState.SKIPPED), TWO_RETRIES, False, (Resume.FRESH, 1)),
        # the runner died during an attempt: carry that attempt on, never a second job
        (STARTING, NO_RETRY, False, (Resume.REPEAT_START, 1)),
        (ANSWERED, NO_RETRY, False, (Resume.REPEAT_START, 1)),
        (RUNNING, TWO_RETRIES, False, (Resume.REATTACH, 2)),
        (RUNNING, TWO_RETRIES, True, (Resume.REATTACH, 2)),
        # it ended: settled, unless a retry had not begun or an operator reruns it
        (OK_1, TWO_RETRIES, False, (Resume.SETTLED, 1)),
        (FAILED_1, NO_RETRY, False, (Resume.SETTLED, 1)),
        (FAILED_1, TWO_RETRIES, False, (Resume.FRESH, 2)),
        (KILLED_1, TWO_RETRIES, False, (Resume.FRESH, 2)),
        (FAILED_3, TWO_RETRIES, False, (Resume.SETTLED, 3)),  # its retries are spent
        (ABORTED_1, ON_ERROR_ONLY, False, (Resume.SETTLED, 1)),  # not a code it retries
        (FAILED_1, ON_ERROR_ONLY, False, (Resume.FRESH, 2)),
        (FAILED_3, TWO_RETRIES, True, (Resume.FRESH, 4)),  # rerun: a new attempt after the last
        (KILLED_1, NO_RETRY, True, (Resume.FRESH, 2)),
    ],
)
def test_resume_point(
    recorded: JobRunRecord | None, retry: Retry, rerun: bool, expected: tuple[Resume, int]
) -> None:
    point = resume_point(recorded, retry, rerun=rerun)
    assert (point.resume, point.attempt) == expected
    assert point.record == (None if expected == (Resume.FRESH, 1) else recorded)


def test_only_a_first_start_waits_for_its_start_time() -> None:
    assert resume_point(None, NO_RETRY).first_start
    assert not resume_point(FAILED_1, TWO_RETRIES).first_start
    assert not resume_point(STARTING, NO_RETRY).first_start


def test_the_attempt_carried_on_is_the_unfinished_one_only() -> None:
    assert resume_point(STARTING, NO_RETRY).carried_on == STARTING
    assert resume_point(RUNNING, NO_RETRY).carried_on == RUNNING
    assert resume_point(FAILED_1, TWO_RETRIES).carried_on is None
    assert resume_point(OK_1, NO_RETRY).carried_on is None


def test_a_new_run_starts_every_job_fresh() -> None:
    import datetime as dt

    from amtflow.plan import make_plan
    from tests.engine.test_engine import definitions, job

    defs = definitions(job("A"), job("B", "A"))
    plan = make_plan(defs, defs.schedules["NIGHTLY"], dt.date(2026, 11, 24))
    assert resume_points(plan.jobs, None) == {"A": ResumePoint(), "B": ResumePoint()}
    points = resume_points(plan.jobs, {"A": OK_1, "B": FAILED_1}, rerun={"B"})
    assert points == {
        "A": ResumePoint(Resume.SETTLED, 1, OK_1),
        "B": ResumePoint(Resume.FRESH, 2, FAILED_1),
    }


@pytest.mark.parametrize(
    ("recorded", "retry", "marked_ok", "rerun", "interrupted", "outcome"),
    [
        (OK_1, NO_RETRY, False, False, False, OK_1),  # settled
        (FAILED_1, TWO_RETRIES, False, False, False, None),  # its retry begins
        (FAILED_1, TWO_RETRIES, True, False, False, FAILED_1),  # marked OK: no retry
        (FAILED_1, TWO_RETRIES, False, False, True, FAILED_1),  # interrupted: no retry
        (FAILED_1, TWO_RETRIES, True, True, False, None),  # rerun after a mark-ok
        (KILLED_1, NO_RETRY, False, True, True, None),  # an interrupted rerun is decided as any
        (RUNNING, TWO_RETRIES, True, False, True, None),  # carried on: not ended
        (None, NO_RETRY, True, False, True, None),  # never started
    ],
)
def test_the_recorded_attempt_that_settles_a_job(
    recorded: JobRunRecord | None,
    retry: Retry,
    marked_ok: bool,
    rerun: bool,
    interrupted: bool,
    outcome: JobRunRecord | None,
) -> None:
    point = resume_point(recorded, retry, rerun=rerun)
    settled = settled_record(point, marked_ok=marked_ok, rerun=rerun, interrupted=interrupted)
    assert settled is outcome
