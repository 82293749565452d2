"""Another process holds the journal's write lock: waiting it out, and saying so once.

SQLite lets one writer in at a time. A run shares its journal with operators' commands
(mark-ok, hold, kill), other runs of the state dir, and anything else that opens the file: a
``sqlite3`` shell left in a transaction, a backup script. Their writes take milliseconds, and a
wait of ``BUSY_TIMEOUT_S`` covers them; a lock held longer must not cost a night's run:

- on the run's event loop the busy timeout is short (``LOOP_BUSY_TIMEOUT_S``): a grouped write
  that meets the lock is *held*, in order, and retried from the loop every ``RETRY_S``
  (``JournalBase``), so the loop goes on following the jobs on the servers meanwhile;
- the writes that must come after them (the taskIds of new Starts, the run's end) wait until
  they are made, however long (``patiently``): the journal's order is kept, and no Start is
  sent before its taskId is committed;
- once the lock has been held ``WARN_AFTER_S``, one warning line names the journal and says
  what it waits for, and one line says when it can write again (``LockWatch``).

Commands an operator runs (rerun, mark-ok, kill) wait ``BUSY_TIMEOUT_S`` and fail in one line.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from amtflow.errors import StateError

BUSY_TIMEOUT_S = 10.0  # a write outside a run's loop waits this long for another's lock
LOOP_BUSY_TIMEOUT_S = 0.05  # ... and on a run's event loop, this long: then it is held
RETRY_S = 0.5  # held writes are tried again this often (each try may wait the loop's timeout)
WARN_AFTER_S = 10.0  # a lock held this long is worth a line on the terminal

T = TypeVar("T")


def is_busy(exc: BaseException | None) -> bool:
    """Whether ``exc`` is SQLite's answer that another connection holds the lock."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc)


def busy_message(db_path: Path, what: str) -> str:
    """The one line of a write that gave up waiting for another process's write lock."""
    return (
        f"state db {db_path}: {what}: another process has held its write lock for "
        f"{BUSY_TIMEOUT_S:g} s (a sqlite3 shell, a backup, another amtflow command?); "
        "try again once it lets go"
    )


class LockWatch:
    """One warning while another process's write lock keeps the journal waiting, one line when
    it can write again: shared by a journal's writers (the event loop, the worker thread)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.say: Callable[[str], None] = _stderr
        self._warned = False
        self._mutex = threading.Lock()

    def busy(self, since: float) -> None:
        """A writer has waited since ``since`` (``time.monotonic``) and is still waiting."""
        if self._warned or time.monotonic() - since < WARN_AFTER_S:
            return
        with self._mutex:
            if self._warned:
                return
            self._warned = True
        self.say(
            f"journal {self.db_path}: waiting for another process's write lock on it "
            f"(held {time.monotonic() - since:.0f} s so far); jobs already running are "
            "followed, new ones start and their changes are recorded once it lets go"
        )

    def free(self) -> None:
        """A writer that waited has written."""
        with self._mutex:
            if not self._warned:
                return
            self._warned = False
        self.say(f"journal {self.db_path}: the other process let go; writing again")


def patiently(write: Callable[[], T], watch: LockWatch, stop: Callable[[], bool] = bool) -> T:
    """``write()``, tried again for as long as it fails for another process's write lock
    (each try waits its connection's busy timeout) unless ``stop()`` says to give up."""
    since = time.monotonic()
    waited = False
    while True:
        try:
            result = write()
        except StateError as err:
            if not is_busy(err.__cause__) or stop():
                raise
            waited = True
            watch.busy(since)
            continue
        if waited:
            watch.free()
        return result


def _stderr(line: str) -> None:
    print(f"amtflow: warning: {line}", file=sys.stderr, flush=True)
