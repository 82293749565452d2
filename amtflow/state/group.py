"""Group commit of a run's per-job state writes: the writes of one loop tick, one transaction.

A run of many short jobs makes three or four journal writes per job (its batch request id, its
last message seq, its end, a job not run). Each in its own transaction is one WAL commit each;
while a run's engine drives it, these writes instead join one open transaction that is
committed when the event loop gets to the callback scheduled by the first of them: the writes of
one tick (and of what ran before that callback in the next), one commit for them all.

What this changes of the journal's promise: a state change is committed within a loop tick of
being made, not before its call returns. Everything that must come after it still does: any
other write of the journal (the taskIds of new Starts, the run's end, an operator action) and
the end of the run commit the open group first, so a dependent job's Start is never sent before
the end of the job it waited for is committed. A crash in between loses at most the changes of
that tick, which ``resume`` rebuilds as it does a power cut's (these writes were never fsynced):
it re-monitors a job whose end is not recorded, and repeats a Start with its recorded taskId.

While the taskIds of new Starts are committed on the journal's worker thread (``aside``: the
fsync off the event loop, over its own connection), that commit holds the database's write
lock: the writes made meanwhile are *held*, in order, rather than wait for it on the loop, and
are made in the group when the commit is over (``JournalBase.release_held``). Held
writes are as durable as grouped ones; one that fails then is kept as ``failed``, as a failed
commit is.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable

from amtflow.errors import StateError
from amtflow.state.busy import is_busy

Schedule = Callable[[Callable[[], None]], object]  # e.g. ``loop.call_soon``
Write = Callable[[], None]  # one grouped write, made now or once it is no longer held


class CommitGroup:
    """The open transaction of grouped writes on one connection, and when to commit it."""

    def __init__(self, conn: sqlite3.Connection, error: Callable[[str, sqlite3.Error], StateError]):
        self._conn = conn
        self._error = error
        self._schedule: Schedule | None = None
        self._open = False
        self.failed: StateError | None = None  # a commit that failed: every later write says so
        self.commits = 0
        self._held: list[Write] | None = None  # while the worker commits (``aside``), or
        self.blocked = False  # while another process holds the write lock (``busy``)

    def start(self, schedule: Schedule) -> None:
        """From now on, grouped writes share a transaction that ``schedule`` commits."""
        self._schedule = schedule

    @property
    def grouping(self) -> bool:
        """Whether grouped writes share a transaction now (between ``start`` and ``stop``)."""
        return self._schedule is not None

    def stop(self) -> None:
        """Commit what is open and go back to one transaction per write."""
        self._schedule = None
        self.settle()

    def join(self) -> bool:
        """Before a grouped write: open the group's transaction if none is open, taking the
        write lock. False if another process holds it (``busy``): the write is to be held."""
        self.check()
        if self._open or self._schedule is None:
            return True
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            if is_busy(exc):
                return False
            raise self._error("cannot begin a transaction", exc) from exc
        self._open = True
        self._schedule(self.commit)
        return True

    def hold(self) -> None:
        """From now on grouped writes wait (``defer``) until ``take_held``; what is open must be
        committed first (``settle``)."""
        if self._open or self._held is not None:
            raise RuntimeError("hold needs a settled group")
        self._held = []

    def defer(self, write: Write) -> bool:
        """Keep ``write`` for later if writes are held now; False: make it now."""
        if self._held is None:
            return False
        self._held.append(write)
        return True

    def block(self, write: Write) -> None:
        """Hold ``write`` and the writes after it (``defer``) until ``take_held``: another process
        holds the write lock (``join`` said so; nothing was held)."""
        self._held = [write]
        self.blocked = True

    def take_held(self) -> list[Write]:
        """The writes held, in the order they were made; none is held any more."""
        held, self._held = self._held or [], None
        self.blocked = False
        return held

    def settle(self) -> None:
        """Before any other write: commit the open group now; raise if a commit failed."""
        self.commit()
        self.check()

    def check(self) -> None:
        if self.failed is not None:
            raise self.failed

    def commit(self) -> None:
        """Commit the open group (a scheduled callback: it never raises; a failure is kept)."""
        if not self._open:
            return
        self._open = False
        try:
            if self._conn.in_transaction:  # a failed statement may have rolled it back already
                self._conn.execute("COMMIT")
            self.commits += 1
        except sqlite3.Error as exc:
            self.failed = self._error("cannot commit the run's state changes", exc)
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
