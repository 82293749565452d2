"""Before any job starts: the log dir's file system can take the run's logs.

A job's log is written as its messages arrive and finished at its end; one that cannot be
written fails its job after the job ran on its server (``engine``). A file system that is
read-only, or has no block or no inode left, is known before the first Start: the run is then
refused in one line, nothing recorded and nothing started, so that the next try (once there is
room) is a whole run rather than jobs to mark OK one by one. A disk that fills up during the
run is the engine's to meet.
"""

from __future__ import annotations

import os
from pathlib import Path

from amtflow.errors import StateError


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
