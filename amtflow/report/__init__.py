"""Everything amtflow shows on the terminal goes through this package.

``stdout`` and ``stderr`` are rich consoles; modules below format one kind of output each
(diagnostics, plans, runs). Nothing else in amtflow prints.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from pathlib import Path

from rich.console import Console, RenderableType
from rich.markup import escape

from amtflow.errors import UsageError

stdout = Console(soft_wrap=True, highlight=False)
stderr = Console(stderr=True, soft_wrap=True, highlight=False)

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
        Console(width=_PIPE_WIDTH, soft_wrap=True, highlight=False).print(renderable)


def error(message: str) -> None:
    """The one-line error the CLI's handler prints for an ``AmtflowError``."""
    stderr.print(f"[bold red]amtflow: error:[/] {escape(terminal_safe(message))}")


def warning(message: str) -> None:
    stderr.print(f"[yellow]amtflow: warning:[/] {escape(terminal_safe(message))}")


def plain(text: str = "", *, err: bool = False) -> None:
    """Write text as is (no markup, no wrapping): for machine formats such as JSON."""
    stream = sys.stderr if err else sys.stdout
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
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
