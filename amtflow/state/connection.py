"""The journal's connection and what every part of it shares: the commit group, the
synchronous level of the next write, and one StateError for every SQLite error.

``Journal`` (``journal``) is put together from the parts that use this base, one per concern:
``journal_runs`` (the runs), ``journal_attempts`` (job attempts), ``journal_marks`` (job marks,
operator actions and notification deliveries).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from amtflow.errors import StateError
from amtflow.state.group import CommitGroup, Write

DB_NAME = "journal.db"


def utc_now() -> str:
    """Now as ISO-8601 UTC with its zone, to the millisecond (sortable as text)."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def journal_path(state_dir: Path) -> Path:
    """The database file inside a state dir."""
    return state_dir / DB_NAME


def companions(db_path: Path) -> tuple[Path, Path]:
    """SQLite's write-ahead log and shared-memory index: part of the database's content."""
    return db_path.with_name(DB_NAME + "-wal"), db_path.with_name(DB_NAME + "-shm")


class JournalBase:
    """One journal database's connection; the helpers its parts write and read through."""

    def __init__(self, conn: sqlite3.Connection, db_path: Path) -> None:
        self._conn = conn
        self.path = db_path
        self._full_sync = True  # schema.connect opens at synchronous=FULL
        self._group = CommitGroup(conn, self._error)

    def close(self) -> None:
        """Close the database; every write was committed already (an open group now)."""
        self.release_held()
        self._group.commit()
        self._conn.close()

    def _settle(self) -> None:
        """Before any write that is not grouped: the grouped writes made so far are committed
        first, held ones too (made now, waiting for the worker's commit if one is under way)."""
        self.release_held()
        self._group.settle()

    def _grouped(self, write: Write) -> None:
        """A per-job state write: made at NORMAL, in the open group if the engine groups, or
        held while new attempts are committed aside (``group``)."""
        self._group.check()
        if self._group.defer(write):
            return
        self._sync(full=False)  # never changed inside the group: FULL writers settle it first
        self._group.join()
        write()

    def release_held(self) -> None:
        """Make the writes held while new attempts were committed aside, in order, in the group.
        One that fails is kept as the group's failure (no caller is left to tell)."""
        for write in self._group.take_held():
            try:
                self._grouped(write)
            except StateError as exc:
                self._group.failed = self._group.failed or exc

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

    def _query(self, sql: str, params: Iterable[Any]) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise self._error("cannot read", exc) from exc

    def _error(self, what: str, exc: sqlite3.Error) -> StateError:
        return StateError(f"state db {self.path}: {what}: {exc}")
