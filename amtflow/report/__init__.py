"""Everything amtflow shows on the terminal goes through this package.

``stdout`` and ``stderr`` are rich consoles; modules below format one kind of output each
(diagnostics, plans, runs). Nothing else in amtflow prints.

Output is never worth a run: both consoles write through a ``QuietOnFailure`` stream, so a
closed pipe (``amtflow run | head -2``) or a hung-up terminal silences that stream, and the run
goes on to its end with its journal, logs and exit status. For any other command the output is
the product (``status --format json > status.json``, ``export cron > crontab.txt``): standard
output that could not be written (a full disk) is an error at the end (``output_lost``), unless
a run's result was concluded (``run_concluded``); a reader that went away (EPIPE) never is.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, cast

from rich.console import Console, RenderableType
from rich.markup import escape

from amtflow.errors import UsageError


class QuietOnFailure:
    """A terminal stream (``sys.stdout`` or ``sys.stderr``, looked up at each write) that goes
    quiet for good the first time writing to it fails: EPIPE from a closed pipe, EIO from a
    hung-up terminal, ENOSPC from a full disk. The stream's descriptor is pointed at
    ``/dev/null`` so that nothing, not even Python's flush at exit, fails on it again."""

    def __init__(self, current: Callable[[], TextIO | None]) -> None:
        self._current = current
        self._failed: object = None  # the stream that failed: a new one (tests) is written again
        self.lost: OSError | None = None  # why it failed

    def _stream(self) -> TextIO | None:
        stream = self._current()
        return cast("TextIO | None", getattr(stream, "rich_proxied_file", stream))  # rich Live

    def write(self, text: str) -> int:
        stream = self._stream()
        if stream is not None and stream is not self._failed:
            try:
                stream.write(text)
            except OSError as exc:
                self._quiet(stream, exc)
        return len(text)

    def flush(self) -> None:
        stream = self._stream()
        if stream is not None and stream is not self._failed:
            try:
                stream.flush()
            except OSError as exc:
                self._quiet(stream, exc)

    def isatty(self) -> bool:
        stream = self._stream()
        return stream is not None and stream is not self._failed and stream.isatty()

    def __getattr__(self, name: str) -> Any:  # fileno, encoding...: the stream's own
        return getattr(self._stream(), name)

    def lost_on_current(self) -> OSError | None:
        """Why writing to the current stream failed, if it did."""
        return self.lost if self._failed is not None and self._failed is self._stream() else None

    def _quiet(self, stream: TextIO, exc: OSError) -> None:
        self._failed, self.lost = stream, exc
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, stream.fileno())
            finally:
                os.close(devnull)
        except (OSError, ValueError):  # no descriptor (a test's capture): muted all the same
            pass


_stdout_stream = QuietOnFailure(lambda: sys.stdout)
_out = cast(TextIO, _stdout_stream)
_err = cast(TextIO, QuietOnFailure(lambda: sys.stderr))
stdout = Console(file=_out, soft_wrap=True, highlight=False)
stderr = Console(file=_err, soft_wrap=True, highlight=False)

_UNSAFE = frozenset(
    ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
)  # escapes, bidi overrides, invisibles


def terminal_safe(text: str) -> str:
    """``text`` with every control, format or invisible character written as ``\\uXXXX``.

    Definitions are untrusted: a name holding ESC sequences or a right-to-left override must
    not repaint the terminal or reorder what a reviewer reads.
    """
    if text.isprintable() and text.isascii():
        return text
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _UNSAFE else ch for ch in text
    )


def shown(text: str) -> str:
    """Outside text (definitions, server answers, file names) made safe for rich markup and for
    the terminal: every line of every report goes through here or through ``terminal_safe``."""
    return escape(terminal_safe(text))


def safe_lines(text: str) -> str:
    """A multi-line text (a job log) with each line made terminal-safe; the newlines kept."""
    return "\n".join(terminal_safe(line) for line in text.split("\n"))


_PIPE_WIDTH = 300  # piped output keeps whole table rows, for grep and less


def table(renderable: RenderableType) -> None:
    """Print a table: fitted to a terminal, or with whole rows when stdout is piped."""
    if stdout.is_terminal:
        stdout.print(renderable)
    else:
        Console(file=_out, width=_PIPE_WIDTH, soft_wrap=True, highlight=False).print(renderable)


_concluded: list[bool] = []  # a run's result was concluded: its exit status is the run's own


def command_begins() -> None:
    """Forget what an earlier command in this process concluded (``run_concluded``)."""
    _concluded.clear()


def run_concluded() -> None:
    """A run's result, in its journal, logs and files, is what this command gives: standard
    output lost on the way (a full disk under ``amtflow run > run.txt``) does not fail it."""
    _concluded.append(True)


def output_lost() -> str | None:
    """Why this command's standard output could not be written (a full disk, an I/O error), so
    that it must not exit 0; None when it was written, its reader went away on purpose (EPIPE:
    ``| head -1``), or a run was concluded (``run_concluded``)."""
    lost = _stdout_stream.lost_on_current()
    if lost is None or lost.errno == errno.EPIPE or _concluded:
        return None
    return lost.strerror or str(lost)


def error(message: str) -> None:
    """The one-line error the CLI's handler prints for an ``AmtflowError``."""
    stderr.print(f"[bold red]amtflow: error:[/] {escape(terminal_safe(message))}")


def warning(message: str) -> None:
    stderr.print(f"[yellow]amtflow: warning:[/] {escape(terminal_safe(message))}")


def plain(text: str = "", *, err: bool = False) -> None:
    """Write text as is (no markup, no wrapping): for machine formats such as JSON."""
    stream = _err if err else _out
    stream.write(text + "\n")
    stream.flush()


def write_private(path: Path, data: bytes) -> None:
    """Write a report file (``--json``, ``--junit``) private to the user (0600), whatever the
    umask: it names jobs, hosts and log paths."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as stream:
            os.fchmod(fd, 0o600)
            stream.write(data)
    except OSError as exc:  # no half-written file is left to be read as the run's
        with contextlib.suppress(OSError):
            path.unlink()
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
