"""The journal's job attempts: each committed as it happens, the taskIds of new Starts durably
before the Starts are sent (see ``journal`` and ``schema`` on the promise and its cost)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from typing import Any

from amtflow.operator import OperatorRecord, OperatorView, StartWithheld
from amtflow.runs import JobRunRecord, JobState
from amtflow.state import actions
from amtflow.state.connection import JournalBase, utc_now
from amtflow.state.rows import JOB_COLUMNS, job_run_record

_NEW_ATTEMPT = (
    "INSERT INTO job_runs (run_id, job, attempt, task_id, state, started_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_NOT_RUN = (
    "INSERT INTO job_runs (run_id, job, attempt, state, ended_at, reason)"
    " VALUES (?, ?, 0, ?, ?, ?) ON CONFLICT (run_id, job, attempt)"
    " DO UPDATE SET ended_at = excluded.ended_at, reason = excluded.reason, state = excluded.state"
)


class JournalAttempts(JournalBase):
    """The ``job_runs`` table: every attempt of every job, and jobs that were not run."""

    def new_attempt(self, run_id: str, job: str, attempt: int, task_id: str) -> None:
        """Commit a new attempt (STARTING, with its taskId) before its Start is sent.

        ``StartWithheld`` when an operator's action keeps it from starting (``new_attempts``).
        """
        withheld = self.new_attempts([(run_id, job, attempt, task_id)])
        if withheld:
            raise StartWithheld(next(iter(withheld.values())))

    def new_attempts(
        self, rows: Sequence[tuple[str, str, int, str]]
    ) -> dict[tuple[str, int], OperatorRecord]:
        """Commit new attempts (run id, job, attempt, taskId: each STARTING) in one durable
        transaction, one fsync for them all, before any of their Starts is sent. All or none:
        StateError names the first attempt that could not be recorded.

        A first attempt is recorded only if no operator holds or skips the job, a retry only if
        no operator marked it OK, checked in the same transaction: an operator's action either
        comes first or is refused. Answers the attempts so withheld, (job, attempt) -> action;
        they are not recorded and their Starts must not be sent.
        """
        return self._write(lambda: self._new_attempts(rows))  # after what was written before

    def _new_attempts(
        self, rows: Sequence[tuple[str, str, int, str]]
    ) -> dict[tuple[str, int], OperatorRecord]:
        self._sync(full=True)
        now = utc_now()
        starting = JobState.STARTING.value
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            withheld: dict[tuple[str, int], OperatorRecord] = {}
            views: dict[str, OperatorView] = {}  # each run's operator actions, read once
            for run_id, job, attempt, task_id in rows:
                if run_id not in views:
                    views[run_id] = actions.standing(self._conn, run_id)
                blocked = actions.withheld_in(views[run_id], job, attempt)
                if blocked is not None:
                    withheld[(job, attempt)] = blocked
                    continue
                try:
                    self._conn.execute(_NEW_ATTEMPT, (run_id, job, attempt, task_id, starting, now))
                except sqlite3.Error as exc:
                    raise self._error(_integrity(run_id, job, attempt, exc), exc) from exc
            self._conn.execute("COMMIT")
            return withheld
        except sqlite3.Error as exc:
            raise self._error("cannot record new attempts", exc) from exc
        finally:
            if self._conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")

    def set_batch_request_id(
        self, run_id: str, job: str, attempt: int, batch_request_id: int, log_path: str
    ) -> None:
        """Record the batchRequestId the Start answered (the attempt is now RUNNING)."""
        values = (JobState.RUNNING.value, batch_request_id, log_path)
        self._grouped(  # lost to a power cut: resume repeats the Start, same taskId
            lambda: self._update_attempt(
                run_id, job, attempt, "state = ?, batch_request_id = ?, log_path = ?", values
            )
        )

    def set_last_seq(self, run_id: str, job: str, attempt: int, seq: int) -> None:
        """Remember the last message seq written to the job's log (cheap: no fsync)."""
        self._grouped(
            lambda: self._update_attempt(
                run_id, job, attempt, "last_seq = max(last_seq, ?)", (seq,)
            )
        )

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
        """Commit the attempt's end: a finished state, its completion code and why, in words.

        ``log_path`` records a log the attempt wrote without a batch request id (a refused Start),
        ``last_seq`` the last message seq of a log written as the job ended (``set_last_seq``:
        one write of the row instead of two).
        """
        if not state.finished:
            raise ValueError(f"finish_attempt needs a finished state, not {state.value}")
        values = (state.value, completion_code, reason, utc_now(), log_path, last_seq)
        self._grouped(  # lost to a power cut: resume re-monitors the job
            lambda: self._update_attempt(
                run_id,
                job,
                attempt,
                "state = ?, completion_code = ?, reason = ?, ended_at = ?,"
                " log_path = coalesce(?, log_path), last_seq = max(last_seq, coalesce(?, last_seq))",
                values,
            )
        )

    def mark_not_run(
        self, run_id: str, job: str, reason: str, state: JobState = JobState.NOT_RUN
    ) -> None:
        """Record that a job was never started (attempt 0, no taskId), and why.

        ``state`` is NOT_RUN, or SKIPPED for a job that was not needed. Recording it again (a
        resumed run that still cannot start it) updates the reason.
        """
        row = (run_id, job, state.value, utc_now(), reason)

        def write() -> None:
            try:
                self._conn.execute(_NOT_RUN, row)
            except sqlite3.Error as exc:
                raise self._error(_integrity(run_id, job, 0, exc), exc) from exc

        self._grouped(write)

    def _update_attempt(
        self, run_id: str, job: str, attempt: int, assignments: str, values: tuple[Any, ...]
    ) -> None:
        self._update(
            f"UPDATE job_runs SET {assignments} WHERE run_id = ? AND job = ? AND attempt = ?",
            (*values, run_id, job, attempt),
            f"attempt {attempt} of job '{job}' in run '{run_id}'",
        )

    def job_runs(self, run_id: str) -> list[JobRunRecord]:
        """Every attempt of every job of a run, in the order they were recorded."""
        rows = self._query(
            f"SELECT {JOB_COLUMNS} FROM job_runs WHERE run_id = ? ORDER BY rowid", (run_id,)
        )
        return [job_run_record(row) for row in rows]

    def latest_attempts(self, run_id: str) -> dict[str, JobRunRecord]:
        """Each job of a run mapped to its last (highest) attempt, in the order jobs appeared."""
        latest: dict[str, JobRunRecord] = {}
        for record in self.job_runs(run_id):
            known = latest.get(record.job)
            if known is None or record.attempt >= known.attempt:
                latest[record.job] = record
        return latest

    def last_batch_request_id(self) -> int:
        """The highest batch request id recorded (0 when none): where the embedded simulator of
        the next simulated run starts counting, so that its job logs never share a name."""
        rows = self._query("SELECT MAX(batch_request_id) FROM job_runs", ())
        return int(rows[0][0] or 0) if rows else 0


def _integrity(run_id: str, job: str, attempt: int, exc: sqlite3.Error) -> str:
    if "FOREIGN KEY" in str(exc):
        return f"unknown run '{run_id}'"
    if isinstance(exc, sqlite3.IntegrityError):
        return f"attempt {attempt} of job '{job}' in run '{run_id}' is already recorded"
    return f"cannot record attempt {attempt} of job '{job}'"
