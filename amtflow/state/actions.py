"""Operator actions in the journal: recorded from any terminal, read by the run's runner.

Hold and skip race with the runner starting the job. Both sides decide inside one write
transaction (``BEGIN IMMEDIATE``: SQLite lets one writer at a time in), so the answer is definite:
either the action is committed first and the runner's ``new_attempt`` sees it and does not start
the job, or the attempt (its taskId, written before the Start is sent) is committed first and the
action is refused because the job has started.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from amtflow.errors import StateError, UsageError
from amtflow.operator import OperatorAction, OperatorRecord, OperatorView
from amtflow.runs import JobRunRecord, JobState, RunRecord, RunState
from amtflow.state.rows import JOB_COLUMNS, RUN_COLUMNS, job_run_record, run_record

_COLUMNS = "seq, run_id, job, action, user, at"
_MARKABLE = (JobState.FAILED, JobState.KILLED)


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One transaction holding SQLite's write lock from its first statement."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def read_actions(conn: sqlite3.Connection, run_id: str, after: int = 0) -> list[OperatorRecord]:
    """The operator actions on ``run_id`` after ``after`` (a ``seq``), in order."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM operator_actions WHERE run_id = ? AND seq > ? ORDER BY seq",
        (run_id, after),
    ).fetchall()
    return [_record(row) for row in rows]


def standing(conn: sqlite3.Connection, run_id: str) -> OperatorView:
    """Where the operator's actions on ``run_id`` leave its jobs, read once for a group of new
    attempts (inside the transaction that records them)."""
    return OperatorView.of(read_actions(conn, run_id))


def withheld_in(view: OperatorView, job: str, attempt: int) -> OperatorRecord | None:
    """The hold or skip that keeps ``job`` from starting its first attempt, or the mark-ok
    that makes a retry needless, if any."""
    if attempt > 1:
        return view.marked_ok.get(job)
    return view.skipped.get(job) or view.held.get(job)


def record_actions(
    conn: sqlite3.Connection,
    run_id: str,
    jobs: Sequence[str],
    action: OperatorAction,
    *,
    user: str,
    at: Callable[[], str],
) -> list[OperatorRecord]:
    """Check and record ``action`` on each of ``jobs``: all of them or, refused, none.

    UsageError or StateError in one line naming the first job (or the run) it is refused for.
    """
    with write_transaction(conn):
        run = _run(conn, run_id)
        _check_run(run, action)
        view = OperatorView.of(read_actions(conn, run_id))
        attempts = _latest_attempts(conn, run_id)
        for job in jobs:
            _check_job(run, job, action, attempts.get(job), view)
        when = at()
        for job in jobs:
            conn.execute(
                "INSERT INTO operator_actions (run_id, job, action, user, at)"
                " VALUES (?, ?, ?, ?, ?)",
                (run_id, job, action.value, user, when),
            )
        return read_actions(conn, run_id)[-len(jobs) :]


def _check_run(run: RunRecord, action: OperatorAction) -> None:
    if run.state is RunState.ABANDONED:
        raise StateError(f"run {run.run_id} was abandoned: nothing more happens in it")
    if run.state.finished and action is not OperatorAction.MARK_OK:
        raise StateError(
            f"run {run.run_id} already ended ({run.state.value}): no job starts in it any more; "
            f"amtflow mark-ok {run.run_id} JOB carries it on past a failed job"
        )


def _check_job(
    run: RunRecord,
    job: str,
    action: OperatorAction,
    latest: JobRunRecord | None,
    view: OperatorView,
) -> None:
    where = f"job {job} of run {run.run_id}"
    if action is OperatorAction.RELEASE:
        if job not in view.held:
            raise UsageError(f"{where} is not held: nothing to release")
        return
    if action is OperatorAction.MARK_OK:
        _check_markable(where, latest, view.marked_ok.get(job))
        return
    if job in view.skipped:
        raise UsageError(f"{where} is already {view.skipped[job].said}")
    if latest is not None and latest.attempt > 0:
        raise UsageError(f"{where} {_started(latest)}: it can no longer be {action.past}")
    if action is OperatorAction.HOLD and job in view.held:
        raise UsageError(f"{where} is already {view.held[job].said}")


def _check_markable(where: str, latest: JobRunRecord | None, marked: OperatorRecord | None) -> None:
    if marked is not None:
        raise UsageError(f"{where} is already {marked.said}")
    state = latest.state if latest else JobState.PENDING
    if state not in _MARKABLE:
        raise UsageError(
            f"{where} did not fail ({state.value.replace('_', ' ')}): "
            "only a failed or killed job can be marked OK"
        )


def _started(latest: JobRunRecord) -> str:
    return f"has already started (attempt {latest.attempt}, {latest.state.value})"


def _run(conn: sqlite3.Connection, run_id: str) -> RunRecord:
    row = conn.execute(f"SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise StateError(f"unknown run '{run_id}'")
    return run_record(row)


def _latest_attempts(conn: sqlite3.Connection, run_id: str) -> dict[str, JobRunRecord]:
    rows = conn.execute(
        f"SELECT {JOB_COLUMNS} FROM job_runs WHERE run_id = ? ORDER BY attempt", (run_id,)
    ).fetchall()
    return {record.job: record for record in map(job_run_record, rows)}


def _record(row: tuple[object, ...]) -> OperatorRecord:
    seq, run_id, job, action, user, at = row
    try:
        kind = OperatorAction(action)
    except ValueError:
        raise StateError(
            f"the journal holds an unknown operator action '{action}' (written by a newer amtflow?)"
        ) from None
    return OperatorRecord(int(str(seq)), str(run_id), str(job), kind, str(user), str(at))
