"""The taskIds of new Starts committed aside: on a worker thread, off the run's event loop.

The commit that puts the taskIds of new Starts on disk (``new_attempts``) ends in an fsync of the
journal's write-ahead log, and on ext4 that fsync also flushes the run's log files written since
the one before: 0.5 to 5 ms each, measured in runs of 2,000 jobs, about one per 15 Starts. Made
on the event loop, it stopped the whole run for that long (0.3-0.5 s of a 2,000-job run: the
loop's largest single wait). While a run's engine groups its writes (``Journal.grouped``), the
commit is made instead on one worker thread, over a connection of its own to the same database
(SQLite serialises the two writers), and the loop answers the servers meanwhile.

The journal's promise is kept as it was (docs/architecture.md, "The journal's promise"):

- the Starts of a batch are sent only once its commit is on disk: the engine awaits it;
- what was written before the batch is committed first: the group is settled before the worker
  is given the rows (``CommitGroup.hold``), and the worker's fsync covers it too;
- the per-job writes made while the worker commits are held, in order, and made in the group as
  soon as it is done (``JournalBase.release_held``), before the batch's Starts go out.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from amtflow.operator import OperatorRecord
from amtflow.state.busy import LockWatch, patiently
from amtflow.state.journal_attempts import JournalAttempts
from amtflow.state.schema import connect

# Each try of a commit waits this long for another process's write lock, then looks whether
# the run is closing (and gives up) before it tries again (``busy.patiently``).
WORKER_BUSY_TIMEOUT_S = 1.0

Withheld = dict[tuple[str, int], OperatorRecord]


class Aside:
    """One worker thread, and its own connection to a journal, for commits of new attempts."""

    def __init__(self, db_path: Path, lock_watch: LockWatch) -> None:
        self._db_path = db_path
        self._lock_watch = lock_watch
        self._closing = False  # a commit waiting for another process's lock gives up
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="amtflow-journal")
        self._attempts: JournalAttempts | None = None  # connected on the worker, when first used
        self._used = False  # the worker thread is started by the first commit given to it

    def new_attempts(self, rows: Sequence[tuple[str, str, int, str]]) -> Future[Withheld]:
        """``JournalAttempts.new_attempts`` of ``rows``, made on the worker: its answer, or its
        StateError, is the future's."""
        self._used = True
        return self._worker.submit(self._commit, rows)

    def close(self) -> None:
        """Wait for a commit under way, then close the worker's connection and the worker."""
        self._closing = True
        try:
            if self._used:
                self._worker.submit(self._disconnect).result()
        finally:
            self._worker.shutdown(wait=True)

    def _commit(self, rows: Sequence[tuple[str, str, int, str]]) -> Withheld:
        attempts = self._attempts
        if attempts is None:
            conn = connect(self._db_path, existing=True)
            conn.execute(f"PRAGMA busy_timeout = {round(WORKER_BUSY_TIMEOUT_S * 1000)}")
            attempts = JournalAttempts(conn, self._db_path)
            self._attempts = attempts
        return patiently(
            lambda: attempts.new_attempts(rows), self._lock_watch, lambda: self._closing
        )

    def _disconnect(self) -> None:
        if self._attempts is not None:
            self._attempts.close()
