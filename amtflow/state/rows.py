"""Rows of the journal's tables read back as the records of ``amtflow.runs``."""

from __future__ import annotations

from typing import Any

from amtflow.errors import StateError
from amtflow.runs import JobRunRecord, JobState, RunRecord, RunState

RUN_COLUMNS = (
    "run_id, schedule, date, state, started_at, ended_at, definitions, digest, pid, options, plan"
)
JOB_COLUMNS = (
    "run_id, job, attempt, task_id, state, batch_request_id, completion_code, started_at,"
    " ended_at, log_path, last_seq, reason"
)


def run_record(row: tuple[Any, ...]) -> RunRecord:
    """A ``runs`` row (in ``RUN_COLUMNS`` order) as a record."""
    run_id, schedule, date, state, started_at, ended_at, definitions, digest, pid, options, plan = (
        row
    )
    return RunRecord(
        run_id=run_id,
        schedule=schedule,
        date=date,
        state=_enum(RunState, state),
        started_at=started_at,
        ended_at=ended_at,
        definitions=definitions,
        digest=digest,
        pid=pid,
        options=options,
        plan=plan,
    )


def job_run_record(row: tuple[Any, ...]) -> JobRunRecord:
    """A ``job_runs`` row (in ``JOB_COLUMNS`` order) as a record; no taskId reads as ``""``."""
    (
        run_id,
        job,
        attempt,
        task_id,
        state,
        batch_request_id,
        completion_code,
        started_at,
        ended_at,
        log_path,
        last_seq,
        reason,
    ) = row
    return JobRunRecord(
        run_id=run_id,
        job=job,
        attempt=attempt,
        task_id=task_id or "",
        state=_enum(JobState, state),
        batch_request_id=batch_request_id,
        completion_code=completion_code,
        started_at=started_at,
        ended_at=ended_at,
        log_path=log_path,
        last_seq=last_seq,
        reason=reason,
    )


def _enum(kind: type[JobState] | type[RunState], value: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise StateError(
            f"the journal holds an unknown {kind.__name__} '{value}' (written by a newer amtflow?)"
        ) from None
