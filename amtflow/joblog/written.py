"""A job log already on disk, read back: its lines, the request id and start it names, whether
it is finished, its messages; and its header made final (``JobLog.reopen``, ``continued`` and the
rewrite of a finished log, ``files.rewrite``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from amtflow.errors import StateError
from amtflow.joblog import layout
from amtflow.joblog.layout import Ending


def is_empty(path: Path) -> bool:
    """Whether there is no log at ``path``, or only an empty file."""
    try:
        return path.stat().st_size == 0
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError as exc:
        raise StateError(f"cannot read job log {path}: {exc.strerror}") from exc


def lines_of(text: str) -> list[str]:
    """The lines of a log; a last line cut by a crash is kept, an empty file is one empty line."""
    lines = text.split("\n")
    return lines[:-1] if len(lines) > 1 and lines[-1] == "" else lines


def identity(path: Path, lines: list[str]) -> tuple[int, dt.datetime]:
    """The batch request id and start the header names; StateError if it is damaged."""
    request_id = layout.read_field(lines, "Batch Request Id") or ""
    start = layout.read_field(lines, "Start") or ""
    try:
        return int(request_id), dt.datetime.fromisoformat(start)
    except ValueError:
        raise StateError(f"{path}: its amtflow header is damaged") from None


def finished(lines: list[str]) -> bool:
    """Whether the lines end with the closing rule of a finished log."""
    return lines[-1] == layout.RULE and layout.JOB_LOG in lines


def messages_in(lines: list[str]) -> list[str]:
    """The lines below ``Job Log``, without the closing rule of an earlier finish."""
    body = lines[lines.index(layout.JOB_LOG) + 1 :] if layout.JOB_LOG in lines else []
    return body[:-1] if body and body[-1] == layout.RULE else body


def final_header(lines: list[str], started_at: dt.datetime, ending: Ending) -> list[str]:
    """The header of ``lines`` (a log's, from any amtflow version) with ``ending``'s End,
    Duration and Completion Code, found by their keys (a held log's: ``layout.ended``)."""
    head = lines[: lines.index(layout.JOB_LOG) + 1]
    end, duration = layout.end_lines(started_at, ending)
    replacements = {
        "End": end,
        "Duration": duration,
        "Completion Code": layout.field("Completion Code", ending.code_name),
    }
    return [_replaced(line, replacements) for line in head]


def _replaced(line: str, replacements: dict[str, str]) -> str:
    key = line[:16].rstrip()
    if line[16:18] == ": " and key in replacements:
        return replacements.pop(key)  # pop: only the first line of each key
    return line
