"""The text of a job log: the vendor's job-log layout, preceded by an ``amtflow`` block.

::

    ---------------------------------------------------------------------------
    amtflow -------------------------------------------------------------------
    Run Id          : 20260301-020000-ab12
    Schedule        : NIGHTLY
    Job             : REPORTTEST01
    Agent           : amt-demo
    Attempt         : 1
    Batch Request Id: 4280
    Run As User     : the application user of DEMO2
    Start           : 2026-03-01T02:00:00+00:00
    End             : 2026-03-01T02:00:30+00:00
    Duration        : 00:00:30.229
    ---------------------------------------------------------------------------
    Job Information -----------------------------------------------------------
    Server          : http://10.1.29.5:9001
    ...                                       (the vendor's layout, line for line)
    Parameters      :
      PERIOD=2026-03-01                       (one parameter per line, indented)
    ---------------------------------------------------------------------------
    Completion Code : DONE (4)
    ---------------------------------------------------------------------------
    Job Log -------------------------------------------------------------------
    "a message of the job"
    "[R:4281] a message of child request 4281"
    amtflow: kill requested                   (amtflow's own lines: never quoted)
    ---------------------------------------------------------------------------

The amtflow block comes first so that the vendor part below it stays exactly the vendor's and
the agent (read by retention) sits in the first lines. The Completion Code line is the vendor's
with the number beside the name (``ERROR (11)``, as amtflow writes codes everywhere). Run As User
is the job's RunAs user, or, when it has none, the application user the server runs it as (the
server does not tell that user's name). While the job runs, Completion Code is
``RUNNING (2)``, End and Duration are empty and the closing rule is missing: that rule marks a
finished log. In quoted messages ``\\`` and ``"`` are escaped with a backslash and control
characters as ``\\n``, ``\\t``, ``\\xNN``..., so one message is always one line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from amtflow.task import AmtTask, TaskType
from amtflow.wording import code_text

RULE = "-" * 75
AMTFLOW_TITLE = "amtflow ".ljust(75, "-")
JOB_INFORMATION = "Job Information ".ljust(75, "-")
JOB_LOG = "Job Log ".ljust(75, "-")
RUNNING = code_text(2)
_SHORT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True)
class JobLogHeader:
    """What a job log says about the job run, above its messages."""

    server: str  # the agent's batch_server_url
    agent: str
    task: AmtTask  # its secrets masked
    run_id: str
    schedule: str
    job: str
    attempt: int


@dataclass(frozen=True)
class Ending:
    """How a job run ended, for the final layout."""

    code_name: str  # as written on the Completion Code line: ``ERROR (11)``
    ended_at: dt.datetime


def field(key: str, value: object) -> str:
    """One ``Key            : value`` line; the value can never break the line."""
    prefix = _PREFIXES.get(key) or _PREFIXES.setdefault(key, f"{key:<16}: ")
    return prefix + one_line(str(value))


_PREFIXES: dict[str, str] = {}  # ``Key            : `` of each key: 20 fields a job (issue 16)


def header_lines(
    header: JobLogHeader,
    batch_request_id: int,
    started_at: dt.datetime,
    ending: Ending | None = None,
) -> list[str]:
    """Every line above the messages, for a running (``ending=None``) or finished job."""
    return [
        *_amtflow_block(header, batch_request_id, started_at, ending),
        *_information_block(header),
        RULE,
        field("Completion Code", ending.code_name if ending else RUNNING),
        RULE,
        JOB_LOG,
    ]


# Where ``header_lines`` puts what an ending fills in (``ended``): End and Duration in the amtflow
# block, Completion Code third from the end.
_END_AT, _DURATION_AT, _CODE_FROM_END = 10, 11, 3


def ended(head: list[str], started_at: dt.datetime, ending: Ending) -> list[str]:
    """``head``, as ``header_lines`` made it for the running job, with ``ending``'s End, Duration
    and Completion Code: ``header_lines(..., ending)`` without making every line again (once
    per job: issue 16)."""
    lines = list(head)
    lines[_END_AT], lines[_DURATION_AT] = end_lines(started_at, ending)
    lines[-_CODE_FROM_END] = field("Completion Code", ending.code_name)
    return lines


def _amtflow_block(
    header: JobLogHeader, batch_request_id: int, started_at: dt.datetime, ending: Ending | None
) -> Iterator[str]:
    yield from (RULE, AMTFLOW_TITLE)
    yield from (
        field("Run Id", header.run_id),
        field("Schedule", header.schedule),
        field("Job", header.job),
        field("Agent", header.agent),
        field("Attempt", header.attempt),
        field("Batch Request Id", batch_request_id),
        field("Run As User", run_as(header)),
        field("Start", timestamp(started_at)),
    )
    yield from end_lines(started_at, ending)


def run_as(header: JobLogHeader) -> str:
    """The user the job runs as: its RunAs user, else its application's user (the default)."""
    return header.task.user or f"the application user of {header.task.application}"


def end_lines(started_at: dt.datetime, ending: Ending | None) -> tuple[str, str]:
    """The End and Duration lines (empty while the job runs)."""
    if ending is None:
        return field("End", ""), field("Duration", "")
    return field("End", timestamp(ending.ended_at)), field(
        "Duration", duration(started_at, ending.ended_at)
    )


def _information_block(header: JobLogHeader) -> Iterator[str]:
    task = header.task
    kind = "Script Job" if task.type is TaskType.SCRIPT else "Batch Job"
    yield from (RULE, JOB_INFORMATION)
    yield from (
        field("Server", header.server),
        field("Application", task.application),
        field("Submit User", task.submit_user),
        field("Station", task.station),
        field("Queue Name", task.queue or ""),
        field(kind, task.name),
    )
    yield "Parameters      :"
    yield from (f"  {one_line(parameter)}" for parameter in task.parameters)


def message_line(text: str, batch_request_id: int, job_request_id: int) -> str:
    """A server message, quoted; a child request's message starts with ``[R:<id>] ``."""
    prefix = "" if batch_request_id == job_request_id else f"[R:{batch_request_id}] "
    return f'"{prefix}{quote_escape(text)}"'


def note_line(text: str) -> str:
    """amtflow's own line: unquoted and always starting with ``amtflow:``."""
    text = one_line(text)
    return text if text.startswith("amtflow:") else f"amtflow: {text}"


def quote_escape(text: str) -> str:
    """Escape a message for a quoted line: backslash, quote and every control character."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return text  # the usual message: nothing to escape
    return "".join(_SHORT_ESCAPES.get(ch) or _control_escape(ch) for ch in text)


def one_line(text: str) -> str:
    """Text kept readable (backslashes as they are) but on one line: control chars escaped."""
    if text.isprintable():
        return text
    return "".join(_control_escape(ch) for ch in text)


def _control_escape(ch: str) -> str:
    if ch.isprintable() or ch == " ":
        return ch
    if ch in "\n\r\t":
        return _SHORT_ESCAPES[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def timestamp(moment: dt.datetime) -> str:
    """ISO 8601 to the second, with the UTC offset when known."""
    return moment.isoformat(timespec="seconds")


def duration(start: dt.datetime, end: dt.datetime) -> str:
    """``HH:MM:SS.mmm``; empty if the two times cannot be compared."""
    try:
        seconds = max((end - start).total_seconds(), 0.0)
    except TypeError:  # one naive, one aware
        return ""
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def read_field(lines: Iterable[str], key: str) -> str | None:
    """The value of the first ``key`` line above the messages, or None."""
    prefix = f"{key:<16}: "
    for line in lines:
        if line == JOB_LOG:
            return None
        if line.startswith(prefix):
            return line[len(prefix) :]
    return None


def is_amtflow_log(first_lines: list[str]) -> bool:
    """Whether a file starts like a job log amtflow wrote."""
    return first_lines[:2] == [RULE, AMTFLOW_TITLE]
