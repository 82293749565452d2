"""What a run shows: a live view on a terminal, one plain line per state change elsewhere, then
a summary table (the machine formats, JSON summary and JUnit XML, are ``runfiles.py``)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from rich.live import Live
from rich.table import Table
from rich.text import Text

from amtflow.engine.context import JobEvent, JobFlag
from amtflow.plan import Plan
from amtflow.report import plain, shown, stderr, stdout, terminal_safe
from amtflow.report import table as report_table
from amtflow.runs import JobOutcome, JobState, KillAnswer
from amtflow.wording import code_text, counts_text, state_word

SUMMARY_ROWS = 50  # past this many jobs, the summary lists only the ones that did not end OK

_STYLE = {
    JobState.PENDING: "dim",
    JobState.STARTING: "cyan",
    JobState.RUNNING: "cyan",
    JobState.OK: "green",
    JobState.FAILED: "red",
    JobState.KILLED: "magenta",
    JobState.NOT_RUN: "yellow",
    JobState.SKIPPED: "dim",
}


class PlainView:
    """One line per state change, for CI logs and cron mails.

    Lines are written at most ``every`` seconds apart, each batch in one write: a run of
    thousands of short jobs would otherwise make a system call per line. All are written by the
    end of the view (an interrupted run included)."""

    def __init__(self, every: float = 0.1) -> None:
        self.started = time.monotonic()
        self.every = every
        self._lines: list[str] = []
        self._timer: asyncio.TimerHandle | None = None

    def __enter__(self) -> PlainView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()

    def flush(self) -> None:
        """Write the lines gathered so far."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._lines:
            lines, self._lines = self._lines, []
            plain("\n".join(lines))

    def __call__(self, event: JobEvent) -> None:
        if event.state is JobState.STARTING:
            return  # the running line follows at once, with the batch request id
        state = state_word(event.flag or event.state)
        parts = [f"{time.monotonic() - self.started:7.1f}s", event.job, state]
        if event.attempt > 1:
            parts.append(f"attempt {event.attempt}")
        if event.batch_request_id is not None:
            parts.append(f"R:{event.batch_request_id}")
        if event.completion_code is not None:
            parts.append(code_text(event.completion_code))
        if event.reason:
            parts.append(f"- {event.reason}")
        self._lines.append(terminal_safe(" ".join(parts)))
        if self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(self.every, self.flush)
            except RuntimeError:  # no event loop: nothing would come back to write it
                self.flush()


class LiveView:
    """A live table of the jobs in flight and the counts so far, for a terminal."""

    def __init__(self, jobs: Sequence[str], max_rows: int = 15) -> None:
        self.started = time.monotonic()
        self.states = {name: JobState.PENDING for name in jobs}
        self.events: dict[str, JobEvent] = {}
        self.since: dict[str, float] = {}
        self.late: set[str] = set()
        self.max_rows = max_rows
        # Kept as events come, so that a refresh costs the rows it shows, not the run's size:
        # the counts by state, the jobs in flight or waiting, the last ones to end.
        self.counts = Counter(self.states.values())
        self.shown_now: dict[str, None] = {}  # in flight or waiting, in the order they came
        self.ended: dict[str, None] = {}  # the last ``max_rows`` to end, the latest last
        # The view renders itself on each refresh, so elapsed times move between events; it is
        # transient: the summary table replaces it at the end.
        self.live = Live(self, console=stdout, refresh_per_second=4, transient=True)

    def __enter__(self) -> LiveView:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(None, None, None)

    def __rich__(self) -> Table:
        return self._render()

    def __call__(self, event: JobEvent) -> None:
        if event.flag is JobFlag.LATE:
            self.late.add(event.job)
            return  # the job goes on in the state it was in
        before = self.states.get(event.job)
        if before is not event.state:
            self.since[event.job] = time.monotonic()
            self.counts[event.state] += 1
            if before is not None:
                self.counts[before] -= 1
        self.states[event.job] = event.state
        self.events[event.job] = event
        self._place(event.job, event.state)

    def _place(self, name: str, state: JobState) -> None:
        self.shown_now.pop(name, None)
        self.ended.pop(name, None)
        if state.finished:
            self.ended[name] = None
            if len(self.ended) > self.max_rows:
                gone = next(iter(self.ended))  # no longer shown: its details go (memory O(rows))
                del self.ended[gone]
                self.events.pop(gone, None)
                self.since.pop(gone, None)
        elif state in (JobState.STARTING, JobState.RUNNING) or self._waiting(name):
            self.shown_now[name] = None

    def _render(self) -> Table:
        counts = self.counts
        title = "  ".join(
            f"[{_STYLE[s]}]{counts[s]} {state_word(s)}[/]" for s in JobState if counts.get(s)
        )
        table = Table(title=f"{time.monotonic() - self.started:.0f}s  {title}", expand=False)
        for column in ("job", "state", "attempt", "batch request", "elapsed", "code"):
            table.add_column(column)
        for name in self._rows():
            table.add_row(*self._row(name))
        return table

    def _rows(self) -> list[str]:
        rows = list(itertools.islice(self.shown_now, self.max_rows))
        return rows + list(reversed(self.ended))[: self.max_rows - len(rows)]

    def _waiting(self, name: str) -> bool:
        """Waiting with a reason to show: its start time, an operator's hold, its retry."""
        event = self.events.get(name)
        return event is not None and event.state is JobState.PENDING and bool(event.reason)

    def _state_text(self, name: str) -> Text:
        state = self.states[name]
        event = self.events.get(name)
        text = Text(state_word(state), style=_STYLE[state])
        if self._waiting(name) and event is not None:
            text = Text(event.reason, style="blue")  # "waiting until 06:30", "retry in 25s, ..."
        if name in self.late:
            text.append(" late", style="bold yellow")
        return text

    def _row(self, name: str) -> tuple[str | Text, ...]:
        event = self.events.get(name)
        state = self.states[name]
        elapsed = time.monotonic() - self.since.get(name, self.started)
        return (
            shown(name),
            self._state_text(name),
            str(event.attempt) if event and event.attempt else "",
            str(event.batch_request_id) if event and event.batch_request_id else "",
            f"{elapsed:.1f}s" if not state.finished else "",
            code_text(event.completion_code) if event else "",
        )


_VERBS = {
    "new": "run",
    "resumed": "resuming run",
    "rerun": "rerunning failed jobs of run",
    "carried_on": "carrying on run",
}


def run_header(run_id: str, plan: Plan, *, simulated: str, began: str = "new") -> None:
    """The first line of a run: its id (for status, kill and resume) and what it runs."""
    where = f" on the simulator at {simulated}" if simulated else ""
    verb = _VERBS.get(began, "run")
    jobs = len(plan.jobs)
    off = f" ({len(plan.skipped)} more not on this date)" if plan.skipped else ""
    stdout.print(
        f"{verb} [bold]{shown(run_id)}[/]: schedule {shown(plan.schedule.name)} for "
        f"{plan.date}, {jobs} job{'s' if jobs != 1 else ''}{off}{shown(where)}"
    )


def summary(outcomes: Iterable[JobOutcome], log_dir: Path, elapsed: float) -> None:
    """The summary table printed at the end of a run."""
    outcomes = list(outcomes)
    table = Table(title="summary")
    for column in ("job", "state", "completion code", "attempts", "batch request", "reason"):
        table.add_column(column, overflow="fold")
    listed = (
        outcomes if len(outcomes) <= SUMMARY_ROWS else [o for o in outcomes if not o.ok or o.late]
    )
    if len(listed) < len(outcomes):
        table.caption = f"{len(outcomes) - len(listed)} jobs that ended OK are not listed"
    for o in listed[: SUMMARY_ROWS * 10]:
        state = _summary_state(o)
        if o.late:
            state.append(" late", style="bold yellow")
        table.add_row(
            shown(o.name),
            state,
            code_text(o.completion_code),
            str(o.attempts) if o.attempts else "",
            str(o.batch_request_id or ""),
            shown("; ".join(part for part in (o.reason, o.late) if part)),
        )
    report_table(table)
    counts = Counter(_counted_as(o) for o in outcomes)
    counts["late"] = sum(bool(o.late) for o in outcomes)
    line = counts_text(counts)
    stdout.print(f"{len(outcomes)} jobs in {elapsed:.1f}s: {line}; logs in {shown(str(log_dir))}")


def _counted_as(o: JobOutcome) -> str:
    if o.operator is None:
        return o.state.value
    return (
        "skipped by an operator" if o.state is JobState.SKIPPED else f"{o.state.value} (marked OK)"
    )


def _summary_state(o: JobOutcome) -> Text:
    """The state, with the operator's word on it: ``skipped by alice``, ``failed, marked OK``."""
    if o.operator is not None and o.state is JobState.SKIPPED:
        return Text(f"skipped by {o.operator.user}", style=_STYLE[o.state])
    state = Text(state_word(o.state), style=_STYLE[o.state])
    if o.operator is not None:
        state.append(f", marked OK by {o.operator.user}", style="green")
    return state


def nothing_to_run(reason: str) -> None:
    stderr.print(f"nothing to run: {shown(reason)}")


def kill_answer(answer: KillAnswer) -> None:
    """What the server answered a kill sent from ``amtflow kill``."""
    status = answer.status
    confirmed = "killed" if status.completion_code == 3 else "not confirmed killed yet"
    stdout.print(
        f"kill sent for {shown(answer.job)} of run {shown(answer.run_id)} "
        f"(R:{answer.batch_request_id}): the server answered {code_text(status.completion_code)}, "
        f"{confirmed}; the run records it as {state_word(JobState.KILLED)} once the server "
        "reports it"
    )


def report_written(path: Path, what: str) -> None:
    """The line that says where an HTML report went."""
    stdout.print(shown(f"wrote {path} ({what})"))
