"""One run per schedule and date at a time: an advisory ``flock`` on a file in ``<state>/locks``.

The kernel drops a ``flock`` when its process dies, however it dies, so a SIGKILLed run never holds
its lock forever. The holder writes its run id and pid into the file, for the message another
process shows when it finds the lock taken. Lock files are never deleted: unlinking a lock file
lets two processes each lock a different inode of the "same" file.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
from pathlib import Path
from types import TracebackType

from amtflow.errors import StateError
from amtflow.state.files import FILE_MODE, NOFOLLOW, ensure_private_dir, safe_name

LOCKS_DIR = "locks"


def lock_path(state_dir: Path, schedule: str, date: dt.date) -> Path:
    """The lock file of one schedule and date (its name sanitised: always inside ``locks/``)."""
    return state_dir / LOCKS_DIR / f"{safe_name(schedule)}.{date.isoformat()}.lock"


class RunLock:
    """Held while a run of one schedule for one date is in progress; a context manager."""

    def __init__(self, fd: int, path: Path, run_id: str) -> None:
        self._fd: int | None = fd
        self.path = path
        self.run_id = run_id

    @classmethod
    def acquire(cls, state_dir: Path, schedule: str, date: dt.date, run_id: str) -> RunLock:
        """Take the lock at once or raise StateError naming the run that holds it."""
        path = lock_path(state_dir, schedule, date)
        ensure_private_dir(path.parent)
        fd = _open(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_holder(fd)
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StateError(f"lock {path}: cannot lock it: {exc.strerror}") from exc
            raise StateError(_taken(schedule, date, holder)) from None
        try:
            _write_holder(fd, run_id)
        except OSError as exc:  # a full disk: one line, and the lock is not held
            os.close(fd)
            raise StateError(f"lock {path}: cannot write its holder: {exc.strerror}") from exc
        return cls(fd, path, run_id)

    def hold_for(self, run_id: str) -> None:
        """Name another run as the holder (a runner that resumes a recorded run)."""
        if self._fd is not None:
            _write_holder(self._fd, run_id)
            self.run_id = run_id

    def release(self) -> None:
        """Let the next run of this schedule and date start (idempotent)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # the holder's details go with the lock
        finally:
            os.close(fd)  # closing drops the flock

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"RunLock({str(self.path)!r}, run_id={self.run_id!r}, held={self.held})"


def _open(path: Path) -> int:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | NOFOLLOW, FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StateError(
                f"lock {path} is a symbolic link, which amtflow does not follow: remove it"
            ) from exc
        raise StateError(f"lock {path}: cannot open it: {exc.strerror}") from exc
    try:
        os.fchmod(fd, FILE_MODE)
    except OSError as exc:
        os.close(fd)
        raise StateError(f"lock {path}: cannot make it private: {exc.strerror}") from exc
    return fd


def _write_holder(fd: int, run_id: str) -> None:
    payload = json.dumps({"run_id": run_id, "pid": os.getpid()}).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, payload, 0)


def _read_holder(fd: int) -> dict[str, object]:
    try:
        holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError, RecursionError):  # a planted file: shown as an unknown holder
        return {}
    return holder if isinstance(holder, dict) else {}


def _taken(schedule: str, date: dt.date, holder: dict[str, object]) -> str:
    what = f"schedule {schedule} for {date.isoformat()} is already running"
    if "run_id" not in holder:
        return f"{what} (another amtflow process is just starting it)"
    return f"{what}: run {holder['run_id']} (pid {holder.get('pid', '?')})"
