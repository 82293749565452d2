"""A run as a timeline: one lane per agent, one bar per attempt, packed into rows. Pure.

Times are seconds since the run began. An attempt still running ends "now"; a job that never
started (not run, skipped) is a mark at the moment that was decided, not a bar.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from amtflow.batch import CODES
from amtflow.report.html.critical import Span, critical_path
from amtflow.report.html.facts import RunFacts
from amtflow.runs import JobRunRecord, RunRecord

GAP = 0.004  # of the run's length: bars closer than this in time never share a row


@dataclass(frozen=True)
class Bar:
    """One attempt of one job, from its Start to its end."""

    record: JobRunRecord
    agent: str
    start: float
    end: float
    row: int = 0
    critical: bool = False
    late: bool = False  # its job passed its deadline before it ended
    wait_from: float | None = None  # its job waited for its start time from then (first attempt)

    @property
    def open(self) -> bool:
        """Still running: its end is "now"."""
        return not self.record.ended_at

    @property
    def code_name(self) -> str:
        code = self.record.completion_code
        return CODES[code].name if code in CODES else ""


@dataclass(frozen=True)
class Mark:
    """A job that was never started, and when that was decided."""

    record: JobRunRecord
    agent: str
    at: float


@dataclass(frozen=True)
class Lane:
    agent: str
    rows: int  # rows of bars
    marks: bool  # has a row of marks below its bars


@dataclass(frozen=True)
class Timeline:
    origin: dt.datetime
    length: float
    lanes: tuple[Lane, ...]
    bars: tuple[Bar, ...]
    marks: tuple[Mark, ...]
    critical: tuple[str, ...]


Flags = Mapping[str, Mapping[str, tuple[str, str]]]  # job -> JobFlag value -> (when, detail)


def build_timeline(
    run: RunRecord,
    attempts: Sequence[JobRunRecord],
    facts: RunFacts,
    now: dt.datetime,
    flags: Flags | None = None,
) -> Timeline:
    """The timeline of ``run`` from every attempt the journal holds, as of ``now``.

    ``flags`` (the journal's marks of the jobs' time windows) flag late jobs and shade the wait
    for a start time before a job's first attempt.
    """
    flags = flags or {}
    origin = _time(run.started_at)

    def offset(when: str | None) -> float:
        return max(0.0, ((_time(when) if when else now) - origin).total_seconds())

    bars = [
        Bar(
            r,
            facts.of(r.job).agent,
            offset(r.started_at),
            offset(r.ended_at),
            late="late" in flags.get(r.job, {}),
            wait_from=_wait_from(flags.get(r.job, {}), r.attempt, offset),
        )
        for r in attempts
        if r.started_at
    ]
    marks = [
        Mark(r, facts.of(r.job).agent, offset(r.ended_at)) for r in attempts if not r.started_at
    ]
    ends = [bar.end for bar in bars] + [mark.at for mark in marks] + [offset(run.ended_at)]
    length = max(ends)
    critical = critical_path(job_spans(bars), facts.depends_on)
    packed, rows = pack_rows(bars, GAP * length, set(critical))
    lanes = _lanes(rows, {mark.agent for mark in marks})
    return Timeline(origin, length, lanes, packed, tuple(marks), critical)


def _wait_from(
    job_flags: Mapping[str, tuple[str, str]], attempt: int, offset: Callable[[str], float]
) -> float | None:
    waiting = job_flags.get("waiting")
    return offset(waiting[0]) if waiting and attempt == 1 else None


def job_spans(bars: Iterable[Bar]) -> dict[str, Span]:
    """Each job's first Start and last end over its attempts."""
    spans: dict[str, Span] = {}
    for bar in bars:
        known = spans.get(bar.record.job)
        if known is None:
            spans[bar.record.job] = Span(bar.start, bar.end)
        else:
            spans[bar.record.job] = Span(min(known.start, bar.start), max(known.end, bar.end))
    return spans


def pack_rows(
    bars: Sequence[Bar], gap: float, critical: set[str]
) -> tuple[tuple[Bar, ...], dict[str, int]]:
    """Bars with a row in their agent's lane such that no two in a row overlap (first fit).

    Returns the bars in the order of their Start, and how many rows each lane needs.
    """
    free: dict[str, list[tuple[float, int]]] = {}  # agent -> heap of (row's end, row)
    rows: dict[str, int] = {}
    packed: list[Bar] = []
    for bar in sorted(bars, key=lambda b: (_first(b), b.record.job, b.record.attempt)):
        heap = free.setdefault(bar.agent, [])
        if heap and heap[0][0] + gap <= _first(bar):
            _, row = heapq.heappop(heap)
        else:
            row = rows.get(bar.agent, 0)
            rows[bar.agent] = row + 1
        heapq.heappush(heap, (bar.end, row))
        packed.append(dataclasses.replace(bar, row=row, critical=bar.record.job in critical))
    return tuple(packed), rows


def _first(bar: Bar) -> float:
    """Where a bar's row must be free from: its wait for a start time, or its Start."""
    return bar.start if bar.wait_from is None else min(bar.wait_from, bar.start)


def _lanes(rows: dict[str, int], with_marks: set[str]) -> tuple[Lane, ...]:
    agents = sorted(set(rows) | with_marks)
    return tuple(Lane(agent, rows.get(agent, 0), agent in with_marks) for agent in agents)


def _time(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
