"""Where the state lives and how its files are made private to the user (dirs 0700, files 0600).

Files in the state dir are opened ``O_NOFOLLOW``: a symlink planted there (to make amtflow
truncate or chmod its target) is refused, not followed. A state or log dir that another user
owns, or that group or others may write to, is refused as ssh refuses such a ``~/.ssh``.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from pathlib import Path

from amtflow.errors import StateError

STATE_DIR_ENV = "AMTFLOW_STATE_DIR"
DEFAULT_STATE_DIR = ".amtflow"
DIR_MODE = 0o700
FILE_MODE = 0o600

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def default_state_dir() -> Path:
    """``$AMTFLOW_STATE_DIR`` when set (and not empty), else ``./.amtflow``."""
    return Path(os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR)


def safe_name(name: str, *, max_length: int = 40, disambiguate: bool = True) -> str:
    """``name`` reduced to letters, digits, ``_`` and ``-``: safe in a file name or a run id.

    A name that had to change gets a short hash of the original, so that two schedules whose names
    differ only in unsafe characters never share a lock file.
    """
    cleaned = _UNSAFE.sub("_", name).strip("_")[:max_length] or "_"
    if cleaned == name or not disambiguate:
        return cleaned
    return f"{cleaned}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) as 0700 if missing; StateError if it cannot be a directory."""
    try:
        if path.is_dir():
            check_owned(path, "state dir")
            _check_not_read_only(path)
            return
        if path.exists():
            raise StateError(f"state dir {path}: exists and is not a directory")
        made = missing_folders(path)
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        for folder in made:  # mkdir's mode is filtered by the umask, and parents get 0777 & ~umask
            os.chmod(folder, DIR_MODE)
    except OSError as exc:
        raise StateError(f"state dir {path}: cannot create it: {_reason(exc)}") from exc


def _check_not_read_only(path: Path) -> None:
    """StateError in words when ``path`` is on a file system mounted read-only (a PVC mounted
    readOnly, a backup): SQLite would only say "unable to open database file"."""
    if os.statvfs(path).f_flag & getattr(os, "ST_RDONLY", 0):
        raise StateError(
            f"state dir {path} is read-only (its file system is mounted read-only): this"
            " command writes the journal there; status, logs and report only read it"
        )


def check_owned(path: Path, what: str) -> None:
    """StateError unless ``path`` is owned by this user and not writable by group or others."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return  # not there yet: whoever creates it says what goes wrong
    except OSError as exc:
        raise StateError(f"{what} {path}: cannot look at it: {_reason(exc)}") from exc
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise StateError(
            f"{what} {path} is owned by another user (uid {info.st_uid}): amtflow keeps its "
            f"state and logs private; use a dir of your own, or chown it to yourself"
        )
    if info.st_mode & 0o022:
        raise StateError(
            f"{what} {path} can be written by group or others (mode {info.st_mode & 0o777:o}): "
            f"make it private with: chmod go-w {path}"
        )


GITIGNORE = "# Created by amtflow: the state dir holds nothing for git.\n*\n"


def ensure_state_dir(state_dir: Path) -> None:
    """``ensure_private_dir``; a state dir amtflow creates (and each parent it creates on the way)
    gets a ``.gitignore`` of ``*``.

    As pytest does for its cache, so that a first run leaves nothing in ``git status``. A folder
    that already existed is left alone: it may be the user's own (``--state-dir .``).
    """
    made = missing_folders(state_dir)
    ensure_private_dir(state_dir)
    for folder in made:  # `.amtflow` made on the way to `.amtflow/simulated` holds real runs later
        _write_gitignore(folder / ".gitignore")


def make_log_dir(log_dir: Path) -> None:
    """Make a run's log dir before its first job log, if missing: 0700, and a ``.gitignore`` of
    ``*`` in it and in each parent made on the way, as ``ensure_state_dir`` does, so that a run
    in a definitions repo (``.amtflow/logs``) leaves nothing in ``git status``.

    Only there: a ``.gitignore`` in a schedule's or date's folder would keep retention from
    removing it once empty. A courtesy, never a failure: a log dir that cannot be made is said
    so by the job logs, as before.
    """
    made = missing_folders(log_dir)
    if not made:
        return
    try:
        log_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        for folder in made:  # mkdir's mode is filtered by the umask, as for the state dir
            os.chmod(folder, DIR_MODE)
    except OSError:
        return
    for folder in made:
        _write_gitignore(folder / ".gitignore")


def missing_folders(path: Path) -> list[Path]:
    """``path`` and those of its parents that do not exist yet, outermost first."""
    missing: list[Path] = []
    while not path.exists() and path != path.parent:
        missing.insert(0, path)
        path = path.parent
    return missing


def _write_gitignore(path: Path) -> None:
    """A courtesy, never a failure: on a full disk the journal says what is wrong, in one line."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except OSError:  # another run made it at the same moment, or the disk is full
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(GITIGNORE)
    except OSError:
        path.unlink(missing_ok=True)


def is_file(path: Path) -> bool:
    """Whether ``path`` is a regular file; StateError if it cannot even be looked at."""
    try:
        return path.is_file()
    except OSError as exc:
        raise StateError(f"state file {path}: cannot look at it: {_reason(exc)}") from exc


def refuse_unusual(path: Path) -> None:
    """StateError if something that is not a regular file (a folder, a FIFO) takes ``path``."""
    if os.path.lexists(path) and not is_file(path):
        raise StateError(f"state file {path}: is not a regular file: remove it")


def make_private(*paths: Path) -> None:
    """chmod 0600 the regular files among ``paths`` that exist, by path: never opened.

    Closing any descriptor of a file drops every POSIX lock this process holds on it, SQLite's
    included: a descriptor of the journal's ``-shm`` opened and closed here while a connection
    had it let a reader take the shared memory for unused and truncate it under the runner (which
    died of SIGBUS). A symbolic link is refused, not followed (nor is its target changed).
    """
    for path in paths:
        try:
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))
            if not stat.S_ISREG(info.st_mode):
                raise StateError(f"state file {path}: is not a regular file: remove it")
            if stat.S_IMODE(info.st_mode) != FILE_MODE:
                os.chmod(path, FILE_MODE)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StateError(f"state file {path}: cannot make it private: {_reason(exc)}") from exc


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "it is a symbolic link, which amtflow does not follow in its state dir: remove it"
    return exc.strerror or type(exc).__name__
