"""What a notification says: a title that fits a phone's notification line, and a bounded body.

A body names the schedule, the date and the run, says what happened, lists the jobs concerned
with completion code and reason and log path, and quotes the last lines of a few failed jobs'
logs. Everything is bounded, so a run where hundreds of jobs fail still sends a readable message
of a few kilobytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from amtflow.model import NotifyEvent
from amtflow.runs import JobState
from amtflow.wording import code_text, state_word

TITLE_LIMIT = 80
LISTED_JOBS = 20  # jobs named in one message; the rest are counted
TAILED_JOBS = 3  # failed jobs whose log tail is quoted
TAIL_LINES = 10
TAIL_LINE_LIMIT = 200
TAIL_BYTES = 16_384
BODY_LIMIT = 12_000

_FAILURES = frozenset(
    (NotifyEvent.RUN_FAILED, NotifyEvent.JOB_FAILED, NotifyEvent.JOB_MISSED_START)
)
_JOB_VERBS = {
    NotifyEvent.JOB_FAILED: "failed",
    NotifyEvent.JOB_LATE: "late",
    NotifyEvent.JOB_MISSED_START: "missed its start",
}


@dataclass(frozen=True)
class Message:
    """What is sent: a short title (a phone's notification line) and a plain-text body."""

    title: str
    body: str
    failure: bool = False


@dataclass(frozen=True)
class JobFact:
    """A job as a message shows it (from an engine outcome, or a job found late)."""

    name: str
    state: JobState
    completion_code: int | None = None
    reason: str = ""
    attempts: int = 0
    log_path: str | None = None
    operator: str = ""  # "marked OK by alice at ..." / "skipped by ...": it counts as OK

    @property
    def troubled(self) -> bool:
        return not self.state.acceptable and not self.operator


@dataclass(frozen=True)
class RunFacts:
    """Which run a message is about."""

    schedule: str
    date: dt.date
    run_id: str
    jobs: int  # how many jobs the run has


def compose(event: NotifyEvent, run: RunFacts, what: str, jobs: Sequence[JobFact] = ()) -> Message:
    """The message for ``event``: ``what`` happened, with the ``jobs`` concerned."""
    lines = [
        f"Schedule {run.schedule}, date {run.date.isoformat()}, run {run.run_id or '(none)'}.",
        what,
    ]
    lines += _job_sections(jobs)
    body = "\n".join(lines)
    if len(body) > BODY_LIMIT:
        body = body[: BODY_LIMIT - 40].rstrip() + "\n... (cut: see amtflow status and logs)"
    return Message(_title(event, run, what, jobs), body, failure=event in _FAILURES)


def _title(event: NotifyEvent, run: RunFacts, what: str, jobs: Sequence[JobFact]) -> str:
    head = f"{run.schedule} {run.date.isoformat()}"
    if event in _JOB_VERBS:
        verb = _JOB_VERBS[event]
        tail = f"{jobs[0].name} {verb}" if len(jobs) == 1 else f"{len(jobs)} jobs {verb}"
        if len(jobs) == 1 and jobs[0].completion_code is not None:
            tail += f", {_code(jobs[0].completion_code)}"
    else:
        tail = what.split(";", 1)[0].split(". ", 1)[0].rstrip(".")
    title = f"{head}: {tail}"
    return title if len(title) <= TITLE_LIMIT else title[: TITLE_LIMIT - 3] + "..."


def _job_sections(jobs: Sequence[JobFact]) -> list[str]:
    lines: list[str] = []
    tails = 0
    for heading, chosen in _grouped(jobs):
        lines += ["", f"{heading} ({len(chosen)}):"]
        for fact in chosen[:LISTED_JOBS]:
            lines += _job_lines(fact, with_tail=fact.state in _TAILED and tails < TAILED_JOBS)
            tails += fact.state in _TAILED
        if len(chosen) > LISTED_JOBS:
            lines.append(f"... and {len(chosen) - LISTED_JOBS} more (amtflow status RUN)")
    return lines


_TAILED = (JobState.FAILED, JobState.KILLED)


def _grouped(jobs: Sequence[JobFact]) -> list[tuple[str, list[JobFact]]]:
    groups = (
        ("Failed jobs", _TAILED),
        ("Not run", (JobState.NOT_RUN,)),
        ("Still running", (JobState.RUNNING, JobState.STARTING, JobState.PENDING)),
        ("Jobs", (JobState.OK, JobState.SKIPPED)),
    )
    found = [("Passed by an operator", [j for j in jobs if j.operator])]
    found += [
        (heading, [j for j in jobs if j.state in states and not j.operator])
        for heading, states in groups
    ]
    return [(heading, chosen) for heading, chosen in found if chosen]


def _job_lines(fact: JobFact, *, with_tail: bool) -> list[str]:
    detail = [state_word(fact.state)]
    if fact.completion_code is not None:
        detail.append(f"completion code {_code(fact.completion_code)}")
    if fact.attempts > 1:
        detail.append(f"after {fact.attempts} attempts")
    if fact.operator:
        detail.append(fact.operator)
    head = f"- {fact.name}: {', '.join(detail)}"
    lines = [head + (f": {fact.reason}" if fact.reason else "")]
    if fact.log_path:
        lines.append(f"  log: {fact.log_path}")
        if with_tail:
            tail = log_tail(Path(fact.log_path))
            lines += ["  last lines of the log:", *(f"  | {line}" for line in tail)] if tail else []
    return lines


def _code(code: int) -> str:
    return code_text(code)


def log_tail(path: Path, lines: int = TAIL_LINES) -> list[str]:
    """The last ``lines`` lines of a log file, each cut to a bounded length; [] if unreadable."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - TAIL_BYTES))
            data = handle.read(TAIL_BYTES)
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace").splitlines()
    if len(data) == TAIL_BYTES and size > TAIL_BYTES:
        text = text[1:]  # the first line read may be a part of one
    wanted = [line.rstrip() for line in text if line.strip()][-lines:]
    return [
        line if len(line) <= TAIL_LINE_LIMIT else line[:TAIL_LINE_LIMIT] + "..." for line in wanted
    ]


def test_message(notification: str) -> Message:
    """What ``amtflow notify test`` sends."""
    return Message(
        f"amtflow: test of notification {notification}",
        f"This is a test message from amtflow for notification '{notification}'.\n"
        "If you can read it, this target receives amtflow's run and job messages.",
    )
