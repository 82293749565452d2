"""The durable run journal: every run, every job attempt, written the moment it happens.

Write order is the point (docs/architecture.md, "The journal's promise"): ``new_attempts``
commits the taskIds of the Starts ready together (group commit) before any of them is sent,
``set_batch_request_id`` records the batchRequestId as soon as it comes back, and each state
change is recorded as it happens: in its own transaction, or, while a run's engine groups them
(``grouped``, see ``state/group.py``), in one transaction per loop tick, committed before any
other write. A run killed at any instant leaves the journal saying how far it got, so ``resume``
can re-attach (repeating a Start with the same taskId never starts a second job) instead of
starting anything twice.

The journal stores no secret by design: there is no column for a password, token or header.
A ``Journal`` is used from one thread (the run's event loop); each write takes microseconds to a
millisecond (see ``schema`` on durability).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from amtflow.errors import StateError
from amtflow.runs import (
    JobRunRecord,
    JobState,
    OperatorAction,
    OperatorRecord,
    OperatorView,
    RunRecord,
    RunState,
    StartWithheld,
)
from amtflow.state import actions
from amtflow.state.files import (
    check_owned,
    ensure_state_dir,
    is_file,
    make_private,
    safe_name,
)
from amtflow.state.group import CommitGroup, Schedule
from amtflow.state.rows import JOB_COLUMNS, RUN_COLUMNS, job_run_record, run_record
from amtflow.state.schema import connect, connect_read_only, create

DB_NAME = "journal.db"
_NEW_ATTEMPT = (
    "INSERT INTO job_runs (run_id, job, attempt, task_id, state, started_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def _companions(db_path: Path) -> tuple[Path, Path]:
    """SQLite's write-ahead log and shared-memory index: part of the database's content."""
    return db_path.with_name(DB_NAME + "-wal"), db_path.with_name(DB_NAME + "-shm")


MIN_RUN_PREFIX = 4  # a slip of one to three characters must not name a run to kill or abandon


def check_run_prefix(run_ref: str) -> None:
    """StateError unless ``run_ref`` is long enough to name a run by the start of its id."""
    if len(run_ref) < MIN_RUN_PREFIX:
        raise StateError(
            f"run '{run_ref}': give at least {MIN_RUN_PREFIX} characters of the run id "
            "(amtflow status lists the runs)"
        )


def utc_now() -> str:
    """Now as ISO-8601 UTC with its zone, to the millisecond (sortable as text)."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def journal_path(state_dir: Path) -> Path:
    """The database file inside a state dir."""
    return state_dir / DB_NAME


class Journal:
    """The state database of one state dir: runs and job attempts, committed as they happen."""

    def __init__(self, conn: sqlite3.Connection, db_path: Path) -> None:
        self._conn = conn
        self.path = db_path
        self._full_sync = True  # schema.connect opens at synchronous=FULL
        self._group = CommitGroup(conn, self._error)

    @classmethod
    def open(cls, state_dir: Path, *, read_only: bool = False) -> Journal:
        """Open (creating if needed, private to the user) the journal of ``state_dir``.

        StateError, in one line, if the dir cannot be created or written, the file is not a SQLite
        database or is corrupted, or its schema is newer than this amtflow. ``read_only`` (status,
        logs) writes nothing, so it works on a read-only state dir too.

        The journal is trusted: resume, rerun, kill and abandon reach the servers it recorded,
        with the batch users' passwords. So a journal file (or its ``-wal``/``-shm``) that another
        user owns, or that group or others may write, is refused before it is read, as the state
        dir is, rather than made private after someone else may have written to it.
        """
        if read_only:
            check_owned(state_dir, "state dir")
            db_path = journal_path(state_dir)
            return cls(connect_read_only(db_path), db_path)
        ensure_state_dir(state_dir)
        db_path = journal_path(state_dir)
        files = (db_path, *_companions(db_path))
        for path in files:  # before SQLite reads (or replays) them
            check_owned(path, "journal")
        make_private(*files)  # SQLite gives the -wal and -shm it creates the file's mode
        if not is_file(db_path):
            create(db_path)
        return cls(connect(db_path), db_path)

    def close(self) -> None:
        """Close the database; every write was committed already (an open group now)."""
        self._group.commit()
        self._conn.close()

    @contextlib.contextmanager
    def grouped(self, schedule: Schedule) -> Iterator[None]:
        """Within: the per-job state writes (batch request id, last seq, an attempt's end, not
        run, a job's mark) share one transaction, committed by the callback ``schedule``
        (``loop.call_soon``) is given, or by any other write first; committed on the way out.
        A commit that failed raises its StateError from every later write, and here."""
        self._group.start(schedule)
        try:
            yield
        finally:
            self._group.stop()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    # -- runs ---------------------------------------------------------------------------------

    def begin_run(
        self,
        schedule: str,
        date: dt.date,
        *,
        definitions: str,
        digest: str,
        run_id: str | None = None,
        options: str = "{}",
        plan: str | bytes = "",
    ) -> RunRecord:
        """Record a new run (state RUNNING, this process's pid) under a fresh readable run id.

        ``run_id`` (from ``new_run_id``) lets a caller take the ``RunLock`` before recording the
        run, so that a run refused by the lock leaves no record behind.
        """
        for _ in range(8):  # the random suffix makes a clash rare; a clash just draws again
            now = dt.datetime.now(dt.timezone.utc)
            record = RunRecord(
                run_id=run_id or new_run_id(schedule, now),
                schedule=schedule,
                date=date.isoformat(),
                state=RunState.RUNNING,
                started_at=now.isoformat(timespec="milliseconds"),
                definitions=definitions,
                digest=digest,
                pid=os.getpid(),
                options=options,
                plan=plan,
            )
            if self._insert_run(record):
                return record
            if run_id:
                raise StateError(f"run '{run_id}' is already recorded")
        raise StateError(f"state db {self.path}: cannot find a free run id for {schedule}")

    def _insert_run(self, r: RunRecord) -> bool:
        self._group.settle()
        try:
            self._conn.execute(
                f"INSERT INTO runs ({RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    r.run_id,
                    r.schedule,
                    r.date,
                    r.state.value,
                    r.started_at,
                    r.ended_at,
                    r.definitions,
                    r.digest,
                    r.pid,
                    r.options,
                    r.plan,
                ),
            )
        except sqlite3.IntegrityError:
            return False
        except sqlite3.Error as exc:
            raise self._error("cannot record the run", exc) from exc
        return True

    def finish_run(self, run_id: str, state: RunState) -> None:
        """Record the run's end state and end time."""
        self._group.settle()
        self._update(
            "UPDATE runs SET state = ?, ended_at = ? WHERE run_id = ?",
            (state.value, utc_now(), run_id),
            f"run '{run_id}'",
        )

    def reopen_run(self, run_id: str) -> RunRecord:
        """Mark a run RUNNING again under this process (for ``resume``); returns it updated."""
        self._group.settle()
        self._update(
            "UPDATE runs SET state = ?, ended_at = NULL, pid = ? WHERE run_id = ?",
            (RunState.RUNNING.value, os.getpid(), run_id),
            f"run '{run_id}'",
        )
        return self.run(run_id)

    # -- job attempts -------------------------------------------------------------------------

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
        self._group.settle()  # state changes made before these Starts are committed first
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
        self._grouped()  # lost to a power cut: resume repeats the Start, same taskId
        self._update_attempt(
            run_id,
            job,
            attempt,
            "state = ?, batch_request_id = ?, log_path = ?",
            (JobState.RUNNING.value, batch_request_id, log_path),
        )

    def set_last_seq(self, run_id: str, job: str, attempt: int, seq: int) -> None:
        """Remember the last message seq written to the job's log (cheap: no fsync)."""
        self._grouped()
        self._update_attempt(run_id, job, attempt, "last_seq = max(last_seq, ?)", (seq,))

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
    ) -> None:
        """Commit the attempt's end: a finished state, its completion code and why, in words.

        ``log_path`` records a log the attempt wrote without a batch request id (a refused Start).
        """
        if not state.finished:
            raise ValueError(f"finish_attempt needs a finished state, not {state.value}")
        self._grouped()  # lost to a power cut: resume re-monitors the job
        self._update_attempt(
            run_id,
            job,
            attempt,
            "state = ?, completion_code = ?, reason = ?, ended_at = ?,"
            " log_path = coalesce(?, log_path)",
            (state.value, completion_code, reason, utc_now(), log_path),
        )

    def mark_not_run(
        self, run_id: str, job: str, reason: str, state: JobState = JobState.NOT_RUN
    ) -> None:
        """Record that a job was never started (attempt 0, no taskId), and why.

        ``state`` is NOT_RUN, or SKIPPED for a job that was not needed. Recording it again (a
        resumed run that still cannot start it) updates the reason.
        """
        self._grouped()
        try:
            self._conn.execute(
                "INSERT INTO job_runs (run_id, job, attempt, state, ended_at, reason)"
                " VALUES (?, ?, 0, ?, ?, ?) ON CONFLICT (run_id, job, attempt)"
                " DO UPDATE SET ended_at = excluded.ended_at, reason = excluded.reason,"
                " state = excluded.state",
                (run_id, job, state.value, utc_now(), reason),
            )
        except sqlite3.Error as exc:
            raise self._error(_integrity(run_id, job, 0, exc), exc) from exc

    def flag_job(self, run_id: str, job: str, flag: str, detail: str = "") -> None:
        """Record a moment of the job's time window (``JobFlag`` value), e.g. it became late."""
        self._grouped()
        try:
            self._conn.execute(
                "INSERT INTO job_marks (run_id, job, mark, at, detail) VALUES (?, ?, ?, ?, ?)",
                (run_id, job, flag, utc_now(), detail),
            )
        except sqlite3.Error as exc:
            raise self._error(f"cannot record that job '{job}' is {flag}", exc) from exc

    def job_marks(self, run_id: str) -> dict[str, dict[str, tuple[str, str]]]:
        """Each job's marks (``JobFlag`` value -> (when, detail)), the latest of each kind."""
        rows = self._query(
            "SELECT job, mark, at, detail FROM job_marks WHERE run_id = ? ORDER BY rowid",
            (run_id,),
        )
        marks: dict[str, dict[str, tuple[str, str]]] = {}
        for job, mark, at, detail in rows:
            marks.setdefault(job, {})[mark] = (at, detail)
        return marks

    def _update_attempt(
        self, run_id: str, job: str, attempt: int, assignments: str, values: tuple[Any, ...]
    ) -> None:
        self._update(
            f"UPDATE job_runs SET {assignments} WHERE run_id = ? AND job = ? AND attempt = ?",
            (*values, run_id, job, attempt),
            f"attempt {attempt} of job '{job}' in run '{run_id}'",
        )

    def _grouped(self) -> None:
        """Before a per-job state write: at NORMAL, in the open group if the engine groups."""
        self._group.check()
        self._sync(full=False)  # never changed inside the group: FULL writers settle it first
        self._group.join()

    def _sync(self, *, full: bool) -> None:
        """FULL (fsync each commit) only where a lost commit could start a job twice."""
        if self._full_sync is not full:
            self._pragma(f"synchronous={'FULL' if full else 'NORMAL'}")
            self._full_sync = full

    def _pragma(self, setting: str) -> None:
        try:
            self._conn.execute(f"PRAGMA {setting}")
        except sqlite3.Error as exc:
            raise self._error(f"cannot set {setting}", exc) from exc

    def _update(self, sql: str, params: tuple[Any, ...], what: str) -> None:
        try:
            changed = self._conn.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            raise self._error(f"cannot update {what}", exc) from exc
        if changed == 0:
            raise StateError(f"unknown {what}")

    # -- operator actions -------------------------------------------------------------------

    def record_operator_actions(
        self, run_id: str, jobs: Sequence[str], action: OperatorAction, user: str
    ) -> list[OperatorRecord]:
        """Check and record an operator's ``action`` on ``jobs`` (all or none; see ``actions``)."""
        self._group.settle()
        self._sync(full=True)  # an acknowledged hold must survive a power cut
        try:
            return actions.record_actions(self._conn, run_id, jobs, action, user=user, at=utc_now)
        except sqlite3.Error as exc:
            raise self._error(f"cannot record {action.value}", exc) from exc

    def operator_actions(self, run_id: str, after: int = 0) -> list[OperatorRecord]:
        """The operator actions on a run after ``after`` (a ``seq``), in order."""
        try:
            return actions.read_actions(self._conn, run_id, after)
        except sqlite3.Error as exc:
            raise self._error("cannot read operator actions", exc) from exc

    # -- notifications ------------------------------------------------------------------------

    def record_notice(
        self,
        run_id: str,
        notification: str,
        url_index: int,
        event: str,
        delivered: bool,
        tries: int,
        reason: str,
    ) -> None:
        """Record one notification delivery, made or not (never a URL; ``reason`` masked)."""
        self._group.settle()
        self._sync(full=False)
        row = (run_id, notification, url_index, event, int(delivered), tries, reason, utc_now())
        try:
            self._conn.execute("INSERT INTO notices VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
        except sqlite3.Error as exc:
            raise self._error("cannot record a notification", exc) from exc

    def notices(self, run_id: str) -> list[tuple[Any, ...]]:
        """A run's deliveries: (notification, url_index, event, delivered, tries, reason, at)."""
        return self._query(
            "SELECT notification, url_index, event, delivered, tries, reason, at FROM notices "
            "WHERE run_id = ? ORDER BY rowid",
            (run_id,),
        )

    # -- reading ------------------------------------------------------------------------------

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The most recent runs, newest first."""
        rows = self._query(
            f"SELECT {RUN_COLUMNS} FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?",
            (limit,),
        )
        return [run_record(row) for row in rows]

    def run(self, run_id: str) -> RunRecord:
        """The run with this id, or the one run whose id starts with it (``MIN_RUN_PREFIX``
        characters at least: every command that takes a RUN asks here); StateError otherwise."""
        sql = f"SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?"
        rows = self._query(sql, (run_id,))
        if not rows:
            check_run_prefix(run_id)
            sql = f"SELECT {RUN_COLUMNS} FROM runs WHERE substr(run_id, 1, ?) = ? LIMIT 6"
            rows = self._query(sql, (len(run_id), run_id))
        if not rows:
            raise StateError(f"unknown run '{run_id}'")
        if len(rows) > 1:
            some = ", ".join(str(row[0]) for row in rows[:5]) + (", ..." if len(rows) > 5 else "")
            raise StateError(f"run '{run_id}' is ambiguous: it matches {some}")
        return run_record(rows[0])

    def runs_of(self, schedule: str, date: dt.date) -> list[RunRecord]:
        """Every run of ``schedule`` for ``date``, newest first."""
        rows = self._query(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE schedule = ? AND date = ?"
            " ORDER BY started_at DESC, rowid DESC",
            (schedule, date.isoformat()),
        )
        return [run_record(row) for row in rows]

    def runs_from(self, definitions: str, date: dt.date) -> list[RunRecord]:
        """Every run begun from the schedule file ``definitions`` for ``date``, newest first."""
        rows = self._query(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE definitions = ? AND date = ?"
            " ORDER BY started_at DESC, rowid DESC",
            (definitions, date.isoformat()),
        )
        return [run_record(row) for row in rows]

    def schedule_runs(self, schedule: str, limit: int = 20) -> list[RunRecord]:
        """The most recent runs of one schedule, newest first."""
        rows = self._query(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE schedule = ?"
            " ORDER BY started_at DESC, rowid DESC LIMIT ?",
            (schedule, limit),
        )
        return [run_record(row) for row in rows]

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

    def _query(self, sql: str, params: Iterable[Any]) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise self._error("cannot read", exc) from exc

    def _error(self, what: str, exc: sqlite3.Error) -> StateError:
        return StateError(f"state db {self.path}: {what}: {exc}")


def new_run_id(schedule: str, now: dt.datetime | None = None) -> str:
    """A readable, practically unique run id: ``20261124T060001-NIGHTLY-3f2a`` (UTC time)."""
    when = now or dt.datetime.now(dt.timezone.utc)
    name = safe_name(schedule, max_length=24, disambiguate=False)
    return f"{when:%Y%m%dT%H%M%S}-{name}-{secrets.token_hex(2)}"


def _integrity(run_id: str, job: str, attempt: int, exc: sqlite3.Error) -> str:
    if "FOREIGN KEY" in str(exc):
        return f"unknown run '{run_id}'"
    if isinstance(exc, sqlite3.IntegrityError):
        return f"attempt {attempt} of job '{job}' in run '{run_id}' is already recorded"
    return f"cannot record attempt {attempt} of job '{job}'"
