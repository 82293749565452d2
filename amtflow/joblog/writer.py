"""One job log file, written as the job runs and rewritten atomically when it ends.

The file handle stays open while the job runs: each ``append`` writes its messages and flushes
once, so a crash of amtflow loses nothing already read. ``finish`` streams the final layout to a
private temporary file beside the log and ``os.replace``-s it, so a reader (or a crash) sees the
running log or the finished one, never half of either, and memory stays flat whatever its size.

A log can also be begun ``held`` (``JobLog.held``): nothing is on disk yet and its lines wait in
memory, for a job that may end before it is first seen running. ``begin`` then writes it as a
running log (the engine does so when the job is seen running, or when the held lines pass
``HOLD_BYTES``); a held log that is finished is created at its name and written once, in its
final layout, in one ``write`` (one file created, no temporary, no rename: the cost per job of
a zero-duration job's log, issue 16). Its closing rule is its last line, so a reader that comes
during that write, or a crash in it, finds an empty file or a log without its closing rule: a
log not finished, never a finished one cut short. A crash while it is held leaves no file, a
crash between its create and its write an empty one: nothing read from the server is lost
either way (``resume`` reads the job's messages again and begins the log then, ``continued``).

A log holds at most ``max_bytes`` (``$AMTFLOW_MAX_LOG_BYTES``, default 64 MiB): a server that
floods a job with messages gets a line saying where the log was cut, not a full disk.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Iterable
from pathlib import Path

from amtflow.batch import Message
from amtflow.errors import StateError, UsageError
from amtflow.joblog import layout, written
from amtflow.joblog.files import (
    AppendOnly,
    make_folder_of,
    open_append,
    open_new,
    publish,
    read_text,
    rewrite,
)
from amtflow.joblog.layout import Ending, JobLogHeader
from amtflow.wording import code_text

MAX_BYTES_ENV = "AMTFLOW_MAX_LOG_BYTES"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
LEAST_MAX_BYTES = 4096  # room for the header and the note that says where the log was cut
HOLD_BYTES = 64 * 1024  # a held log past this is begun on disk: memory stays small
CUT_NOTE = "amtflow: the log is cut here"


def configured_max_bytes() -> int:
    """The byte cap of a job log: ``$AMTFLOW_MAX_LOG_BYTES`` when set, else 64 MiB."""
    text = os.environ.get(MAX_BYTES_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    if not text.isdigit() or int(text) < LEAST_MAX_BYTES:
        raise UsageError(
            f"{MAX_BYTES_ENV}={text[:20]!r}: write a number of bytes, at least {LEAST_MAX_BYTES}"
        )
    return int(text)


class JobLog:
    """The log file of one job run (one attempt, one batch request id)."""

    def __init__(
        self,
        path: Path,
        stream: AppendOnly | None,
        batch_request_id: int,
        started_at: dt.datetime,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.path = path
        self._stream = stream  # None once finished
        self._batch_request_id = batch_request_id
        self._started_at = started_at
        self.messages_written = 0  # server messages in the file (counted again on reopen)
        self.max_bytes = max_bytes
        self.size = 0  # bytes in the file
        self.cut = False  # the cap was reached: later messages are counted, not written
        self.dropped = 0
        self._held: list[str] | None = None  # a held log's lines, not on disk yet

    @classmethod
    def create(
        cls,
        path: Path,
        header: JobLogHeader,
        *,
        batch_request_id: int,
        started_at: dt.datetime,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> JobLog:
        """Create the log (dirs 0700, file 0600) with its running header.

        If ``path`` exists already (an earlier run of the same day), the new log goes beside it
        as ``<name>~2.log``, ``~3``...: a log already written is never overwritten.
        """
        log = cls.held(
            path,
            header,
            batch_request_id=batch_request_id,
            started_at=started_at,
            max_bytes=max_bytes,
        )
        log.begin()
        return log

    @classmethod
    def held(
        cls,
        path: Path,
        header: JobLogHeader,
        *,
        batch_request_id: int,
        started_at: dt.datetime,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> JobLog:
        """A log whose running header and lines wait in memory until ``begin`` or ``finish``
        (see the module's docstring); its ``path`` may still become ``<name>~2.log``."""
        log = cls(path, None, batch_request_id, started_at, max_bytes)
        log._held = []
        log._hold(layout.header_lines(header, batch_request_id, started_at))
        return log

    @property
    def on_disk(self) -> bool:
        """Whether the log has been written to its file (False while it is held)."""
        return self._held is None

    def begin(self) -> None:
        """Write a held log to disk as a running log (nothing to do for any other log)."""
        if self._held is None:
            return
        make_folder_of(self.path)
        self.path, self._stream = open_new(self.path)
        lines, self._held, self.size = self._held, None, 0
        self._write(lines)

    @classmethod
    def reopen(cls, path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> JobLog:
        """Open an existing log to append to it (resuming a run).

        A finished log can be reopened too: what is appended then, and a new ``finish``, rewrite
        it atomically.
        """
        text = read_text(path)
        lines = written.lines_of(text)
        if not layout.is_amtflow_log(lines):
            raise StateError(f"{path} is not a job log written by amtflow")
        request_id, started_at = written.identity(path, lines)
        complete = text.endswith("\n")
        if written.finished(lines):
            log = cls(path, None, request_id, started_at, max_bytes)
        else:
            log = cls(path, open_append(path), request_id, started_at, max_bytes)
        log.size = len(text.encode("utf-8"))
        if log._stream is not None and not complete:
            log._write([""])  # a crash cut the last line: it is not counted, and is closed off
        body = written.messages_in(lines) if complete else written.messages_in(lines)[:-1]
        log.messages_written = sum(1 for line in body if line.startswith('"'))
        log.cut = any(line.startswith(CUT_NOTE) for line in body)
        return log

    @classmethod
    def continued(
        cls,
        path: Path,
        header: JobLogHeader,
        *,
        batch_request_id: int,
        started_at: dt.datetime,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> JobLog:
        """The log of a job re-attached after the runner died: the one at ``path`` reopened, or,
        when it was never begun (no file, or an empty one: the runner died between the log's
        create and its write), begun there now."""
        if not written.is_empty(path):
            return cls.reopen(path, max_bytes=max_bytes)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise StateError(f"cannot replace the empty job log {path}: {exc.strerror}") from exc
        return cls.create(
            path,
            header,
            batch_request_id=batch_request_id,
            started_at=started_at,
            max_bytes=max_bytes,
        )

    @property
    def finished(self) -> bool:
        """Whether the log has its final layout (closing rule, completion code, end)."""
        return self._stream is None and self._held is None

    def append(self, messages: Iterable[Message]) -> None:
        """Write the messages, quoted, one per line, then flush once; past the cap, count them."""
        lines = [
            layout.message_line(m.text, m.batch_request_id, self._batch_request_id)
            for m in messages
        ]
        if self.cut:
            self.dropped += len(lines)
            return
        kept = self._fitting(lines)
        if len(kept) < len(lines):
            self.cut, self.dropped = True, len(lines) - len(kept)
            note = f"{CUT_NOTE}: it reached its cap of {self.max_bytes} bytes ({MAX_BYTES_ENV})"
            kept = [*kept, layout.note_line(note)]
        self._add(kept)
        self.messages_written += len(kept) - self.cut

    def _fitting(self, lines: list[str]) -> list[str]:
        """The first lines that fit under the cap, leaving room for the cut note and the end."""
        room = self.max_bytes - self.size - 1024
        if text_bytes(lines) <= room:
            return lines  # the usual page: far under the cap
        for index, line in enumerate(lines):
            room -= len(line.encode("utf-8")) + 1
            if room < 0:
                return lines[:index]
        return lines

    def note(self, text: str) -> None:
        """Write one line of amtflow's own (``amtflow: ...``), unquoted."""
        self._add([layout.note_line(text)])

    def finish(self, completion_code_: int, *, ended_at: dt.datetime) -> None:
        """Rewrite the log atomically in its final layout; calling it again rewrites the ending.

        Streamed, line by line: memory does not grow with the log.
        """
        source = self._stream.detach() if self._stream is not None else None
        self._stream = None
        ending = Ending(code_text(completion_code_), ended_at)
        extra = []
        if self.dropped:
            extra.append(layout.note_line(f"{self.dropped} message(s) after the cut not written"))
            self.dropped = 0
        if self._held is not None:
            head = self._held.index(layout.JOB_LOG) + 1
            final = layout.ended(self._held[:head], self._started_at, ending)
            self.path = publish(self.path, [*final, *self._held[head:], *extra, layout.RULE])
            self._held = None
        else:
            header = functools.partial(
                written.final_header, started_at=self._started_at, ending=ending
            )
            rewrite(self.path, header, extra, source)

    def close(self) -> None:
        """Close the file handle without finishing the log (it stays a running log)."""
        if self._stream is not None:
            self._stream.close()

    def _add(self, lines: list[str]) -> None:
        if not lines:
            return
        if self._held is not None:
            self._hold(lines)
            if self.size > HOLD_BYTES:
                self.begin()
        elif self._stream is None:  # finished: insert above the closing rule, atomically
            rewrite(self.path, lambda head: head, lines)
        else:
            self._write(lines)

    def _hold(self, lines: list[str]) -> None:
        assert self._held is not None
        self._held += lines
        self.size += text_bytes(lines)

    def _write(self, lines: list[str]) -> None:
        assert self._stream is not None
        text = "".join(f"{line}\n" for line in lines)
        try:
            self._stream.write(text)
            self._stream.flush()
            self.size += len(text.encode("utf-8"))
        except OSError as exc:
            raise StateError(f"cannot write job log {self.path}: {exc.strerror}") from exc


def text_bytes(lines: list[str]) -> int:
    """The bytes ``lines`` take in a log file, each with its newline."""
    if not lines:
        return 0
    text = "\n".join(lines)
    return (len(text) if text.isascii() else len(text.encode("utf-8"))) + 1
