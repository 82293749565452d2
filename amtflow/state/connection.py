"""The journal's connection and what every part of it shares: the commit group, the
synchronous level of the next write, and one StateError for every SQLite error.

``Journal`` (``journal``) is put together from the parts that use this base, one per concern:
``journal_runs`` (the runs), ``journal_attempts`` (job attempts), ``journal_marks`` (job marks,
operator actions and notification deliveries).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from amtflow.errors import StateError
from amtflow.state.busy import RETRY_S, LockWatch, busy_message, is_busy, patiently
from amtflow.state.group import CommitGroup, Write

T = TypeVar("T")
Later = Callable[[float, Callable[[], None]], object]  # e.g. ``loop.call_later``
_BUSY = sqlite3.OperationalError("database is locked")  # what SQLite answers, for held writes

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
        self.lock_watch = LockWatch(db_path)
        # a run's: its writes wait out another process's write lock however long (``busy``)
        self._patient = False
        self._later: Later | None = None  # retries held writes while another holds the lock
        self._retry_due = False
        self._blocked_since: float | None = None  # ``time.monotonic`` when writes were blocked

    def close(self) -> None:
        """Close the database; every write was committed already (an open group now)."""
        self.release_held()
        self._group.commit()
        self._conn.close()

    def _settle(self) -> None:
        """Before any write that is not grouped: the grouped writes made so far are committed
        first, held ones too (made now, waiting for the worker's commit if one is under way).
        A StateError of SQLite's busy answer while another process holds the write lock."""
        self.release_held()
        if self._group.blocked:
            raise self._error("cannot make the writes held", _BUSY) from _BUSY
        self._group.settle()

    def _write(self, write: Callable[[], T]) -> T:
        """A write that is not grouped, made after the grouped ones (``_settle``). A run's
        (``patient``) waits out another process's write lock however long, saying so once
        (``busy``); any other fails in one line after ``BUSY_TIMEOUT_S``."""

        def settled() -> T:
            self._settle()
            return write()

        if not self._patient:
            return settled()
        return patiently(settled, self.lock_watch)

    def _grouped(self, write: Write) -> None:
        """A per-job state write: made at NORMAL, in the open group if the engine groups, or
        held while new attempts are committed aside, or while another process holds the write
        lock (``group``, ``busy``)."""
        self._group.check()
        if self._group.defer(write):
            return
        self._sync(full=False)  # never changed inside the group: FULL writers settle it first
        if not self._group.join():
            self._block(write)
            return
        write()

    def _block(self, write: Write) -> None:
        """Hold ``write`` and the writes after it, and try them again from the loop."""
        self._group.block(write)
        if self._blocked_since is None:
            self._blocked_since = time.monotonic()
        if self._later is not None and not self._retry_due:
            self._retry_due = True
            self._later(RETRY_S, self._on_timer)

    def _on_timer(self) -> None:
        self._retry_due = False
        self._retry()

    def _retry(self) -> None:
        """Make the writes held for another process's write lock if it has let go."""
        if not self._group.blocked:
            return
        self.release_held()
        if self._blocked_since is not None:
            self.lock_watch.busy(self._blocked_since)

    def release_held(self) -> None:
        """Make the held writes, in order, in the group: held while new attempts were committed
        aside, or while another process held the write lock (held again if it still does). One
        that fails is kept as the group's failure (no caller is left to tell)."""
        blocked = self._group.blocked
        for write in self._group.take_held():
            try:
                self._grouped(write)
            except StateError as exc:
                self._group.failed = self._group.failed or exc
        if blocked and not self._group.blocked:
            self._blocked_since = None
            self.lock_watch.free()

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
        if is_busy(exc):
            return StateError(busy_message(self.path, what))
        return StateError(f"state db {self.path}: {what}: {exc}")
