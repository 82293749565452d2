"""Which job logs a page embeds, and how much of each: bounded, so a page stays small.

A log up to ``LOG_BOUND`` bytes is embedded whole while the page's ``LOG_BUDGET`` lasts; a larger
one contributes its last ``LOG_BOUND`` bytes (where a failure is told). Every log also gets a link
relative to the page, for the whole file. Failed and killed attempts come first: those are the
logs an operator opens.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from amtflow.runs import JobRunRecord, JobState

LOG_BOUND = 64 * 1024
LOG_BUDGET = 2 * 1024 * 1024
_FIRST = (JobState.FAILED, JobState.KILLED)


@dataclass(frozen=True)
class PageLog:
    """One attempt's log as the page carries it."""

    href: str  # relative to the page; "" when there is no file
    size: int  # bytes of the file; -1 when it is gone
    text: str | None = None  # what is embedded (the whole log, or its tail), None if nothing
    whole: bool = False


def page_logs(
    attempts: Iterable[JobRunRecord],
    page: Path,
    *,
    bound: int = LOG_BOUND,
    budget: int = LOG_BUDGET,
) -> dict[tuple[str, int], PageLog]:
    """The log of each attempt that has one, keyed by (job, attempt)."""
    with_logs = [r for r in attempts if r.log_path]
    ordered = sorted(with_logs, key=lambda r: r.state not in _FIRST)
    logs: dict[tuple[str, int], PageLog] = {}
    for record in ordered:
        log = _embed(Path(record.log_path or ""), page, min(bound, budget))
        budget -= len(log.text.encode()) if log.text else 0
        logs[record.job, record.attempt] = log
    return logs


def _embed(path: Path, page: Path, room: int) -> PageLog:
    href = relative_href(path, page)
    try:
        if room <= 0:  # the budget is spent: its size is all the page says
            return PageLog(href, path.stat().st_size)
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            file.seek(max(0, size - room))
            data = file.read(room)
    except OSError:
        return PageLog(href, -1)
    return PageLog(href, size, data.decode("utf-8", errors="replace"), whole=len(data) >= size)


def relative_href(path: Path, page: Path) -> str:
    """A link from ``page`` to ``path``, relative when both are on one file system tree."""
    target, base = path.absolute(), page.absolute().parent
    try:
        relative = os.path.relpath(target, base)
    except ValueError:  # another drive
        return target.as_uri()
    return quote(Path(relative).as_posix())
