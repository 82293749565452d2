"""One simulated AMT job: its phases (queued, running, ended) and its messages over time.

Everything is computed from the simulator's clock, so a test can move time forward at will.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from amtflow.batch import CODES, completion_code
from amtflow.simulator.scenario import ChildScript, JobScript, TimedMessage

KILLED, QUEUED, RUNNING, ERROR, INVALID_USER = 3, 1, 2, 11, 99


@dataclass(frozen=True)
class Launch:
    """What a Start asked for, as far as the simulated job cares."""

    name: str  # jobName or scriptName
    label: str  # short name used in the default log lines
    run_as: str
    parameters: tuple[str, ...]
    invalid_user: bool = False


@dataclass
class Line:
    offset: float  # seconds after the run began
    batch_request_id: int
    text: str


class SimJob:
    """A job the simulator started; ``status(now)`` and ``messages(now)`` follow its script."""

    def __init__(
        self,
        batch_request_id: int,
        launch: Launch,
        script: JobScript,
        *,
        started: float,
        version: str,
        child_ids: Iterator[int],
    ) -> None:
        self.batch_request_id, self.launch, self.script = batch_request_id, launch, script
        self.started = started
        self.wall = dt.datetime.now(dt.timezone.utc)
        self.queued = script.queued
        self.duration, self.end_code = self._outcome()
        self.description = "File not found" if script.missing and not launch.invalid_user else ""
        self.ended_at: float | None = None  # set by a kill
        self.lines = _timeline(self, version, child_ids)

    def _outcome(self) -> tuple[float, int]:
        if self.launch.invalid_user:
            return 0.0, INVALID_USER
        if self.script.missing:
            return 0.0, ERROR
        return self.script.duration, self.script.end_code

    def elapsed(self, now: float) -> float:
        """Seconds since the job began running (negative while queued)."""
        return now - self.started - self.queued

    def end_offset(self) -> float:
        return self.duration if self.ended_at is None else self.ended_at

    def ended(self, now: float) -> bool:
        return self.elapsed(now) >= self.end_offset()

    def code(self, now: float) -> int:
        if self.ended(now):
            return KILLED if self.ended_at is not None else self.end_code
        return QUEUED if self.elapsed(now) < 0 else RUNNING

    def status(self, now: float) -> dict[str, Any]:
        """The MonitorJob answer at ``now``."""
        code = self.code(now)
        described = self.description if code == self.end_code and self.description else ""
        return {
            "batchRequestId": self.batch_request_id,
            "completionCode": code,
            "status": completion_code(code).name,
            "description": described or _describe(code),
            "startTime": None if code == QUEUED else self._iso(0.0),
            "endTime": self._iso(self.end_offset()) if self.ended(now) else None,
        }

    def kill(self, now: float, text: str) -> None:
        """End the job now as KILLED; later messages never appear."""
        offset = max(self.elapsed(now), 0.0)
        visible = self.visible(now)
        self.lines = self.lines[:visible] + [Line(offset, self.batch_request_id, text)]
        self.ended_at = offset

    def visible(self, now: float) -> int:
        """How many lines have appeared by ``now`` (they appear in seq order)."""
        elapsed = self.elapsed(now)
        if self.ended(now):
            return len(self.lines)
        count = 0
        for line in self.lines:
            if line.offset > elapsed:
                break
            count += 1
        return count

    def messages(self, now: float, after: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Messages with ``seq > after``, at most ``limit``, and whether more are visible."""
        visible = self.visible(now)
        page = [self._message(seq) for seq in range(after + 1, min(visible, after + limit) + 1)]
        return page, after + limit < visible

    def _message(self, seq: int) -> dict[str, Any]:
        line = self.lines[seq - 1]
        return {
            "seq": seq,
            "batchRequestId": line.batch_request_id,
            "time": self._iso(line.offset),
            "text": line.text,
        }

    def _iso(self, offset: float) -> str:
        moment = self.wall + dt.timedelta(seconds=self.queued + offset)
        return moment.isoformat(timespec="milliseconds")


def _name(code: int) -> str:
    return completion_code(code).name


def _describe(code: int) -> str:
    row = CODES.get(code)
    return row.description if row else "Completion code not in the table."


def _timeline(job: SimJob, version: str, child_ids: Iterator[int]) -> list[Line]:
    if job.launch.invalid_user:
        return [Line(0.0, job.batch_request_id, f"Invalid AMT user '{job.launch.run_as}'")]
    if job.script.missing:
        return [Line(0.0, job.batch_request_id, text) for text in _missing_lines(job.launch)]
    lines = _own_lines(job, version)
    for child in job.script.children:
        lines += _child_lines(child, next(child_ids), job.duration, version)
    lines.sort(key=lambda line: line.offset)  # stable: same-time lines keep their order
    return lines


def _missing_lines(launch: Launch) -> list[str]:
    return [
        "Error starting job []",
        f"[An error occurred trying to start process 'pwsh' for '{launch.name}'. "
        "The system cannot find the file specified.]",
        "File not found",
    ]


def _started(batch_request_id: int, version: str) -> str:
    return (
        f"Started Rev: 1.3 AMT: {version}. Params: LOADINBATCHCONTROLLER "
        f"/R:{batch_request_id} /USEWORKINGDIR"
    )


def _own_lines(job: SimJob, version: str) -> list[Line]:
    rid, duration, label = job.batch_request_id, job.duration, job.launch.label
    texts = job.script.messages
    if texts is None:
        texts = _default_texts(job.launch, duration)
    lines = [Line(0.0, rid, _started(rid, version))]
    lines += [Line(at, rid, text) for at, text in _spread(texts, 0.0, duration)]
    closing = "Done" if job.end_code == 4 else f"{label} ended with {_name(job.end_code)}"
    return lines + [Line(duration, rid, closing)]


def _default_texts(launch: Launch, duration: float) -> tuple[TimedMessage, ...]:
    label = launch.label
    params = ", ".join(launch.parameters)
    running = [
        TimedMessage(f"{label} is running {int(duration * k / 3)} seconds", duration * k / 3)
        for k in range(3)
    ]
    return (
        TimedMessage(f"{label} is started", 0.0),
        TimedMessage(f"{label} user {launch.run_as}", 0.0),
        TimedMessage(f"{label} Value param [{params}]", 0.0),
        *running,
        TimedMessage(f"{label} is ended", duration),
        TimedMessage(f"Report execution time: {_clock_text(duration)}", duration),
    )


def _child_lines(child: ChildScript, rid: int, limit: float, version: str) -> list[Line]:
    begin = min(child.at, limit)
    end = min(child.at + child.duration, limit)
    lines = [Line(begin, rid, _started(rid, version))]
    lines += [Line(at, rid, text) for at, text in _spread(child.messages, begin, end)]
    return lines + [Line(end, rid, "Done")]


def _spread(texts: tuple[TimedMessage, ...], begin: float, end: float) -> list[tuple[float, str]]:
    """Give each untimed message a time, evenly over [begin, end); timed ones keep theirs."""
    step = (end - begin) / max(len(texts), 1)
    return [
        (min(text.at, end) if text.at is not None else begin + index * step, text.text)
        for index, text in enumerate(texts)
    ]


def _clock_text(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}:{rest % 1000:03d}"
