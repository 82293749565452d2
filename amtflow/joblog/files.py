"""A job log's file operations: private folders and files, the running log's append-only
descriptor, and the two ways a finished log reaches its name (``publish`` a held log in one
write, ``rewrite`` a running one through a temporary file and a rename), so that a reader or a
crash never takes half of a log for a finished one."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from amtflow.errors import StateError
from amtflow.joblog import layout

FILE_MODE = 0o600
DIR_MODE = 0o700


_present: set[str] = set()  # folders this process made or found: checked once, not per log


def make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents, 0700 whatever the umask.

    A folder is looked at once per process (a run writes many logs in one); one removed since
    is made again when a log cannot be created in it (``_create``)."""
    if str(directory) in _present:
        return
    if directory.is_dir():
        _present.add(str(directory))
        return
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
            os.chmod(folder, DIR_MODE)  # the umask may have taken bits away
        except FileExistsError:
            continue  # another job created it meanwhile
        except OSError as exc:
            raise StateError(f"cannot create log folder {folder}: {exc.strerror}") from exc
    _present.add(str(directory))


def make_folder_of(path: Path) -> None:
    """``make_private_dirs`` of the folder ``path`` goes in: once it is there, one set lookup."""
    if os.path.dirname(path) not in _present:
        make_private_dirs(path.parent)


def open_new(path: Path) -> tuple[Path, AppendOnly]:
    """Create a new private log file at the first free name (``_names``), open to append."""
    for candidate in _names(path):
        try:
            return candidate, _create(candidate)
        except FileExistsError:
            continue
    raise StateError(f"cannot create job log {path}: too many logs of that name")


def _create(path: Path) -> AppendOnly:
    """A new private file at ``path`` (FileExistsError if there is one), its folder made again
    if it was removed since this process made it."""
    try:
        return _open_private(path, os.O_CREAT | os.O_EXCL)
    except _FolderGone:
        _present.discard(str(path.parent))
        make_private_dirs(path.parent)
        return _open_private(path, os.O_CREAT | os.O_EXCL)


def _names(path: Path) -> Iterator[Path]:
    """``path``, then ``<name>~2.log`` ... for a log of a name already taken."""
    yield path
    for number in range(2, 1000):
        yield path.with_name(f"{path.stem}~{number}{path.suffix}")


def publish(path: Path, lines: list[str]) -> Path:
    """Create a finished log at the first free name (never over a log already written) and
    write it in one ``write``; where it landed.

    No temporary file: a job log's closing rule is its last line, so a reader, or a crash, that
    comes between the create and the end of the write finds an empty file or a log without its
    closing rule, which every reader takes for a log not finished (docs/architecture.md, "Crash
    safety"). A write that fails (a full disk) removes the file it created.
    """
    make_folder_of(path)
    text = "\n".join(lines) + "\n"
    for candidate in _names(path):
        try:
            stream = _create(candidate)
        except FileExistsError:
            continue
        try:
            stream.write(text)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(candidate)
            raise StateError(f"cannot write job log {candidate}: {exc.strerror}") from exc
        finally:
            stream.close()
        return candidate
    raise StateError(f"cannot create job log {path}: too many logs of that name")


def open_append(path: Path) -> AppendOnly:
    """Open an existing log to append to it (never through a symlink)."""
    return _open_private(path, os.O_APPEND)


class AppendOnly:
    """A log's descriptor, written with ``os.write``: each ``write`` reaches the file at once
    (as a flushed text stream would) without the buffer, the terminal check and the seeks a
    text stream costs at each open, once per job."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def write(self, text: str) -> None:
        data = memoryview(text.encode("utf-8"))
        while data:
            data = data[os.write(self._fd, data) :]

    def flush(self) -> None:
        pass  # unbuffered

    def close(self) -> None:
        fd = self.detach()
        if fd is not None:
            os.close(fd)

    def detach(self) -> int | None:
        """The descriptor, now the caller's to read (it is open for reading too) and close;
        None once closed."""
        fd, self._fd = self._fd, -1
        return fd if fd >= 0 else None


class _FolderGone(StateError):
    """A log could not be created: its folder is not there."""


def _open_private(path: Path, flags: int) -> AppendOnly:
    try:
        fd = os.open(
            path, flags | os.O_RDWR | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), FILE_MODE
        )
    except FileExistsError:
        raise
    except FileNotFoundError as exc:
        gone = _FolderGone if flags & os.O_CREAT else StateError
        raise gone(f"cannot open job log {path}: {exc.strerror}") from exc
    except OSError as exc:
        raise StateError(f"cannot open job log {path}: {exc.strerror}") from exc
    os.fchmod(fd, FILE_MODE)
    return AppendOnly(fd)


def read_text(path: Path) -> str:
    """A log's text; StateError in one line if it cannot be read."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise StateError(f"cannot read job log {path}: {exc.strerror}") from exc


def rewrite(
    path: Path,
    header: Callable[[list[str]], list[str]],
    extra: list[str],
    source_fd: int | None = None,
) -> None:
    """Copy the log to a private temporary file, line by line, with ``header`` applied to its
    header, ``extra`` lines added below its messages and the closing rule; then replace it.

    ``source_fd``: the running log's own descriptor (closed here), read instead of opening the
    file again."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        with _open_source(path, source_fd) as source:
            head = header(_read_header(path, source))
            fd = os.open(temporary, flags, FILE_MODE)
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as target:
                target.writelines(f"{line}\n" for line in head)
                _copy_messages(source, target)
                target.writelines(f"{line}\n" for line in [*extra, layout.RULE])
        # No fsync: os.replace is atomic against a crash of amtflow, the failure that matters
        # here; an fsync per finished log cost 0.5 ms a job on ext4 (bench/run.py).
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise StateError(f"cannot finish job log {path}: {exc.strerror}") from exc


def _open_source(path: Path, fd: int | None = None) -> IO[str]:
    if fd is None:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return os.fdopen(fd, encoding="utf-8", errors="replace", newline="\n")
    except OSError:
        os.close(fd)
        raise


def _read_header(path: Path, source: IO[str]) -> list[str]:
    head = []
    for line in source:
        head.append(line.removesuffix("\n"))
        if head[-1] == layout.JOB_LOG:
            return head
    raise StateError(f"{path}: its amtflow header is damaged")


def _copy_messages(source: IO[str], target: IO[str]) -> None:
    """The lines below ``Job Log``, without the closing rule of an earlier finish."""
    previous: str | None = None
    for line in source:
        if previous is not None:
            target.write(f"{previous}\n")
        previous = line.removesuffix("\n")
    if previous is not None and previous != layout.RULE:
        target.write(f"{previous}\n")
