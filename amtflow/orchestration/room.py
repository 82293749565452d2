"""The room a run needs on disk: for its logs before it starts, for its journal as it goes.

Before any job starts, the log dir's file system must take files. A job's log is written as its
messages arrive and finished at its end; one that cannot be written fails its job after the job
ran on its server (``engine``). A file system that is read-only, or has no block or no inode
left, is known before the first Start: the run is then refused in one line, nothing recorded
and nothing started, so that the next try (once there is room) is a whole run rather than jobs
to mark OK one by one. A disk that fills up during the run is the engine's to meet.

A journal that cannot be written once the run is recorded (its disk filled up) stops the runner
(``left_unfinished``): the run is left as it stands, the jobs it started keep running on their
servers, and the one line, on the terminal and to the run's notifications, says how to carry it
on, with exit 75 (``RunLeftUnfinished``), which systemd and Kubernetes retry, unlike 1 and 2.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from amtflow.errors import RunLeftUnfinished, StateError
from amtflow.notify import RunNotices
from amtflow.runs import Began


def refuse_a_log_dir_without_room(log_dir: Path) -> None:
    """StateError when the file system the logs of ``log_dir`` go to cannot take a file."""
    try:
        room = os.statvfs(_nearest_existing(log_dir))
    except OSError:  # the log dir's own checks, on first use, say what is wrong with it
        return
    why = _no_room(room)
    if why:
        raise StateError(
            f"log dir {log_dir} {why}: no job was started; free some space, or give another "
            "--log-dir (AMTFLOW_LOG_DIR)"
        )


def _no_room(room: os.statvfs_result) -> str:
    if room.f_flag & os.ST_RDONLY:
        return "is on a read-only file system"
    blocks = room.f_bfree if os.geteuid() == 0 else room.f_bavail  # root may use the reserve
    if blocks == 0:
        return "has no space left on its file system"
    inodes = room.f_ffree if os.geteuid() == 0 else room.f_favail
    if room.f_files and inodes == 0:  # f_files 0: the file system does not count inodes
        return "has no inode left on its file system (no file can be created)"
    return ""


def _nearest_existing(path: Path) -> Path:
    """``path``, or its nearest parent that exists (a log dir is made by the first log)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


@contextlib.asynccontextmanager
async def left_unfinished(run_id: str, notices: RunNotices, way_on: str) -> AsyncIterator[None]:
    """Within: a StateError (the journal could not be written) becomes ``RunLeftUnfinished``
    naming the run and ``way_on``, told to the run's notifications too."""
    try:
        yield
    except RunLeftUnfinished:
        raise
    except StateError as exc:
        left = RunLeftUnfinished(
            f"{exc}; run {run_id} is left as it stands (the jobs it started keep running on their "
            f"servers): {way_on}"
        )
        notices.run_stopped(str(left))
        raise left from exc


def way_on(run_id: str, *, simulated: bool, began: Began) -> str:
    """What carries on a run whose runner stopped: ``amtflow run`` and ``resume`` again resume
    it; a rerun is resumed, not rerun again; the embedded simulator ended with the runner."""
    if simulated:
        return f"amtflow abandon {run_id} closes it (it ran on the embedded simulator)"
    again = "" if began is Began.RERUN else " (or this same command)"
    return f"once the state dir can be written again, amtflow resume {run_id}{again} carries it on"
