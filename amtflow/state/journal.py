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
millisecond (see ``schema`` on durability). While grouped, the durable commits of new attempts
are made on a worker thread of its own, with its own connection (``aside``).

``Journal`` is opened here and put together from one part per concern, over one connection
(``connection.JournalBase``): ``journal_runs``, ``journal_attempts``, ``journal_marks``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from amtflow.operator import OperatorRecord
from amtflow.state.busy import BUSY_TIMEOUT_S, LOOP_BUSY_TIMEOUT_S, RETRY_S, patiently
from amtflow.state.connection import DB_NAME, companions, journal_path, utc_now
from amtflow.state.files import check_owned, ensure_state_dir, is_file, make_private
from amtflow.state.group import Schedule
from amtflow.state.journal_attempts import JournalAttempts
from amtflow.state.journal_marks import JournalMarks
from amtflow.state.journal_runs import MIN_RUN_PREFIX, JournalRuns, check_run_prefix, new_run_id
from amtflow.state.reading import connect_read_only
from amtflow.state.schema import connect, create, remove_stale_temporaries

if TYPE_CHECKING:  # asyncio and a thread pool only for a run's engine, not for status or logs
    import asyncio

    from amtflow.state.aside import Aside

__all__ = [
    "DB_NAME",
    "MIN_RUN_PREFIX",
    "Journal",
    "check_run_prefix",
    "journal_path",
    "new_run_id",
    "utc_now",
]


class Journal(JournalRuns, JournalAttempts, JournalMarks):
    """The state database of one state dir: runs and job attempts, committed as they happen."""

    _aside: Aside | None = None  # the worker thread of new attempts, while grouped

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
        files = (db_path, *companions(db_path))
        for path in files:  # before SQLite reads (or replays) them
            check_owned(path, "journal")
        make_private(*files)  # SQLite gives the -wal and -shm it creates the file's mode
        remove_stale_temporaries(state_dir)  # what a creator killed half-way left (schema.create)
        if not is_file(db_path):
            create(db_path)
        return cls(connect(db_path), db_path)

    @contextlib.contextmanager
    def grouped(self, schedule: Schedule) -> Iterator[None]:
        """Within: the per-job state writes (batch request id, last seq, an attempt's end, not
        run, a job's mark) share one transaction, committed by the callback ``schedule``
        (``loop.call_soon``) is given, or by any other write first; committed on the way out.
        ``new_attempts_off_loop`` commits on a worker thread meanwhile (``aside``).
        A commit that failed raises its StateError from every later write, and here."""
        import asyncio

        from amtflow.state.aside import Aside

        self._patient = True  # a run: from now on its writes wait out another's lock (``busy``)
        with contextlib.suppress(RuntimeError):  # no event loop: held writes wait for the end
            self._later, self._retry_due = asyncio.get_running_loop().call_later, False
        self._pragma(f"busy_timeout = {round(LOOP_BUSY_TIMEOUT_S * 1000)}")
        self._group.start(schedule)
        self._aside = Aside(self.path, self.lock_watch)
        try:
            yield
        finally:
            aside, self._aside = self._aside, None
            try:
                aside.close()  # a commit under way ends first
            finally:
                self._later = None
                self._pragma(f"busy_timeout = {round(BUSY_TIMEOUT_S * 1000)}")
                try:
                    patiently(self._settle, self.lock_watch)  # what is held waits for the lock
                finally:
                    self._group.stop()

    async def new_attempts_off_loop(
        self, rows: Sequence[tuple[str, str, int, str]]
    ) -> dict[tuple[str, int], OperatorRecord]:
        """``new_attempts``, committed on the worker thread while the event loop goes on (in a
        group; ``aside`` says why and what is held meanwhile), or here outside one."""
        import asyncio  # the caller's event loop runs: already imported

        if self._aside is None:
            return self.new_attempts(rows)
        while self._group.blocked:  # another process holds the write lock: writes are held
            await asyncio.sleep(RETRY_S)
            if not self._retry_due:  # no timer of the loop's tries it (``grouped`` without one)
                self._retry()
        self._settle()  # what came before these Starts is committed first
        self._group.hold()
        try:
            done = self._aside.new_attempts(rows)
        except BaseException:
            self.release_held()
            raise
        done.add_done_callback(self._released_on(asyncio.get_running_loop()))
        return await asyncio.wrap_future(done)

    def _released_on(self, loop: asyncio.AbstractEventLoop) -> Callable[[object], None]:
        """The worker's done callback: the held writes are made on the loop, before the
        batch's Starts go out (or by ``grouped`` on its way out, if the loop has closed)."""

        def release(_: object) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed
                loop.call_soon_threadsafe(self.release_held)

        return release

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
