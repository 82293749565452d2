"""``amtflow status`` on the terminal (rich tables); for machines it prints ``statusjson``'s."""

from __future__ import annotations

import datetime as dt
import json

from rich import box
from rich.table import Table

from amtflow import report
from amtflow.errors import StateError
from amtflow.report import shown
from amtflow.report.statusjson import is_live, status_json, unstarted
from amtflow.runs import JobRunRecord, JobState, RunRecord
from amtflow.state.status import Notice, RunDetail, RunSummary, StatusReport
from amtflow.timeofday import format_duration
from amtflow.wording import SIMULATED, clock, code_text, local_day, shown_zone, state_word

_STYLE = {
    "ok": "green",
    "failed": "red",
    "killed": "red",
    "not_run": "yellow",
    "skipped": "dim",
    "running": "cyan",
    "starting": "cyan",
    "pending": "dim",
    "interrupted": "magenta",
}
_WIDE = 120  # narrower terminals get reasons under the table, not squeezed into a column
_FAILED = (JobState.FAILED.value, JobState.KILLED.value)


def show_status(status: StatusReport, fmt: str = "text") -> None:
    """Print a status report as ``text`` (tables) or ``json``."""
    if fmt == "json":
        report.plain(json.dumps(status_json(status), indent=2))
    elif status.detail is not None:
        _print_detail(status.detail)
    elif status.runs:
        _print(_runs_table(status.runs))
        _print_stale_note(status.runs)
    else:
        report.stdout.print(f"no runs yet (state dir {shown(str(status.state_dir))})")
    if fmt != "json" and status.detail is None and status.simulated_apart is not None:
        folder = shown(str(status.simulated_apart))
        report.stdout.print(
            f"{SIMULATED} runs (--simulate) are kept apart: amtflow status --state-dir {folder}"
        )


def _runs_table(runs: tuple[RunSummary, ...]) -> Table:
    table = Table(
        "run",
        "schedule",
        "date",
        "state",
        "ok",
        "failed",
        "not run",
        "skipped",
        "duration",
        box=box.SIMPLE_HEAD,
    )
    for summary in runs:
        counts = summary.counts
        table.add_row(
            shown(summary.run.run_id),
            shown(summary.run.schedule),
            summary.run.date,
            _run_state(summary) + _simulated(summary),
            str(counts.get("ok", 0)),
            str(sum(counts.get(state, 0) for state in _FAILED)),
            str(counts.get("not_run", 0)),
            str(counts.get("skipped", 0)),
            format_duration(summary.duration_s),
        )
    return table


def _print_detail(detail: RunDetail) -> None:
    run = detail.summary.run
    report.stdout.print(
        f"run [bold]{shown(run.run_id)}[/]  schedule {shown(run.schedule)}  date {run.date}"
        f"  {_run_state(detail.summary)}{_simulated(detail.summary)}"
        f"  started {clock(run.started_at, full=True, tz=shown_zone(run))}"
        f"  duration {format_duration(detail.summary.duration_s)}"
    )
    if detail.jobs or detail.waiting() or detail.planned:
        wide = not report.stdout.is_terminal or report.stdout.width >= _WIDE
        _print(_jobs_table(detail, with_reason=wide))
        if not wide:
            _print_lines("reasons", [(job.job, job.reason) for job in detail.jobs if job.reason])
        _print_lines("logs", [(job.job, job.log_path) for job in detail.jobs if job.log_path])
    else:
        report.stdout.print("no job has started yet")
    _print_lines("notifications", [_notice_line(notice) for notice in detail.notices])
    _print_stale_note((detail.summary,))


def _notice_line(notice: Notice) -> tuple[str, str]:
    tries = f"{notice.tries} {'try' if notice.tries == 1 else 'tries'}"
    if notice.delivered:
        outcome = f"delivered ({tries})"
    else:
        outcome = f"NOT delivered after {tries}" + (f": {notice.reason}" if notice.reason else "")
    return (
        f"{notice.notification} URL {notice.url_index}",
        f"{notice.event} {outcome} at {clock(notice.at, full=True)}",
    )


def _print(table: Table) -> None:
    report.table(table)


def _print_stale_note(runs: tuple[RunSummary, ...]) -> None:
    for summary in runs:
        if summary.stale:
            report.stdout.print(
                f"[red]stale[/]: run {shown(summary.run.run_id)} is recorded as running, but its"
                f" process (pid {summary.run.pid}) is gone: it was killed or crashed; "
                + shown(next_step(summary.run))
            )


def next_step(run: RunRecord) -> str:
    """The command that carries a stale run on (or closes it, when it cannot be resumed)."""
    from amtflow.orchestration.record import spec_of  # only for a stale run (``_planned``)

    try:
        simulated = spec_of(run).simulate
    except StateError:
        simulated = False
    if simulated:
        return (
            "it ran on the embedded simulator, which ended with it: "
            f"amtflow abandon {run.run_id} closes it"
        )
    return f"amtflow resume {run.run_id} carries it on (amtflow abandon {run.run_id} closes it)"


def _jobs_table(detail: RunDetail, *, with_reason: bool) -> Table:
    table = Table(box=box.SIMPLE_HEAD)
    for header in ("job", "state", "code", "attempt", "batch request", "start", "end"):
        table.add_column(header, no_wrap=True)
    if with_reason:
        table.add_column("reason", overflow="fold")
    tz = shown_zone(detail.summary.run)
    day = local_day(detail.summary.run.started_at, tz)
    for job in detail.jobs:
        late = " [bold yellow]late[/]" if "late" in detail.marks.get(job.job, {}) else ""
        cells = [
            shown(job.job),
            _state_cell(detail, job) + late,
            _code(job.completion_code),
            str(job.attempt),
            _text(job.batch_request_id),
            clock(job.started_at, day=day, tz=tz),
            clock(job.ended_at, day=day, tz=tz),
        ]
        table.add_row(*cells, *([shown(job.reason)] if with_reason else []))
    for name, until in detail.waiting().items():
        waiting = f"[blue]waiting until {clock(until, day=day, tz=tz)}[/]"
        table.add_row(shown(name), waiting, "", "", "", "", "", *([""] if with_reason else []))
    for name in unstarted(detail):
        cell = _unstarted_cell(detail, name)
        table.add_row(shown(name), cell, "", "", "", "", "", *([""] if with_reason else []))
    return table


def _state_cell(detail: RunDetail, job: JobRunRecord) -> str:
    """The job's state, with what an operator did to it, or the retry it waits for."""
    counted = detail.operator.counted_ok(job.job)
    if counted is not None and job.state is JobState.SKIPPED:
        return f"[dim]skipped by {shown(counted.user)}[/]"
    if counted is not None:
        return _styled(job.state.value) + f", [green]marked OK by {shown(counted.user)}[/]"
    held = detail.operator.held.get(job.job)
    if held is not None and job.attempt == 0 and is_live(detail):  # decided again when released
        return f"[magenta]held by {shown(held.user)}[/]"
    retry = detail.next_attempt(job)
    if retry is not None:
        when, number, of = retry
        return f"[yellow]retry in {_seconds_until(when)}, attempt {number} of {of}[/]"
    return _styled(job.state.value)


def _unstarted_cell(detail: RunDetail, name: str) -> str:
    view = detail.operator
    if name in view.skipped:
        return f"[dim]skipped by {shown(view.skipped[name].user)}[/]"
    if name in view.held:
        return f"[magenta]held by {shown(view.held[name].user)}[/]"
    return "[dim]waiting[/]" if is_live(detail) else "[dim]not started[/]"


def _seconds_until(iso: str) -> str:
    left = (dt.datetime.fromisoformat(iso) - dt.datetime.now(dt.timezone.utc)).total_seconds()
    return f"{max(0, round(left))}s"


def _print_lines(title: str, lines: list[tuple[str, str]]) -> None:
    # Long values on lines of their own: log paths are meant to be copied whole.
    if lines:
        report.stdout.print(f"{title}:")
    for job, text in lines:
        report.stdout.print(f"  {shown(job)}: {shown(text)}", overflow="ignore", crop=False)


def _run_state(summary: RunSummary) -> str:
    if summary.stale:
        return "[red]stale[/]"
    return _styled(summary.run.state.value)


def _simulated(summary: RunSummary) -> str:
    return f" [dim]{SIMULATED}[/]" if summary.run.simulated else ""


def _styled(state: str) -> str:
    style = _STYLE.get(state, "")
    label = state_word(state)
    return f"[{style}]{label}[/]" if style else label


def _code(code: int | None) -> str:
    return shown(code_text(code))


def _text(value: object | None) -> str:
    return "" if value is None else str(value)
