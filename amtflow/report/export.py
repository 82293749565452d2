"""What ``amtflow export`` shows: the files on stdout (or where they were written), and the
schedules that got no trigger on stderr."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from amtflow.export import Export
from amtflow.report import plain, stderr, terminal_safe, warning


def show(result: Export, out: Path | None) -> None:
    """Print the exported files, or say where they were written; then what was skipped."""
    for note in result.skipped:
        stderr.print(f"skipped {escape(terminal_safe(note))}")
    for note in result.warnings:
        warning(note)
    if not result.files:
        stderr.print("nothing to export: no schedule has a start_time")
        return
    if out is not None:
        names = ", ".join(file.name for file in result.files)
        stderr.print(f"wrote {escape(terminal_safe(names))} to {escape(terminal_safe(str(out)))}")
        return
    several = len(result.files) > 1
    for file in result.files:
        if several:
            plain(f"# ---- {file.name}")
        plain(file.text.rstrip("\n"))
