"""The journal's runs: recording a run, its end or its resumption, and finding runs."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import sqlite3

from amtflow.errors import StateError
from amtflow.runs import RunRecord, RunState
from amtflow.state.connection import JournalBase, utc_now
from amtflow.state.files import safe_name
from amtflow.state.rows import RUN_COLUMNS, run_record

MIN_RUN_PREFIX = 4  # a slip of one to three characters must not name a run to kill or abandon


def check_run_prefix(run_ref: str) -> None:
    """StateError unless ``run_ref`` is long enough to name a run by the start of its id."""
    if len(run_ref) < MIN_RUN_PREFIX:
        raise StateError(
            f"run '{run_ref}': give at least {MIN_RUN_PREFIX} characters of the run id "
            "(amtflow status lists the runs)"
        )


def new_run_id(schedule: str, now: dt.datetime | None = None) -> str:
    """A readable, practically unique run id: ``20261124T060001-NIGHTLY-3f2a`` (UTC time)."""
    when = now or dt.datetime.now(dt.timezone.utc)
    name = safe_name(schedule, max_length=24, disambiguate=False)
    return f"{when:%Y%m%dT%H%M%S}-{name}-{secrets.token_hex(2)}"


class JournalRuns(JournalBase):
    """The ``runs`` table of the journal."""

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
        return self._write(lambda: self._inserted(r))

    def _inserted(self, r: RunRecord) -> bool:
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
        self._write(
            lambda: self._update(
                "UPDATE runs SET state = ?, ended_at = ? WHERE run_id = ?",
                (state.value, utc_now(), run_id),
                f"run '{run_id}'",
            )
        )

    def reopen_run(self, run_id: str) -> RunRecord:
        """Mark a run RUNNING again under this process (for ``resume``); returns it updated."""
        self._write(
            lambda: self._update(
                "UPDATE runs SET state = ?, ended_at = NULL, pid = ? WHERE run_id = ?",
                (RunState.RUNNING.value, os.getpid(), run_id),
                f"run '{run_id}'",
            )
        )
        return self.run(run_id)

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
