"""``amtflow status`` on the terminal (rich tables) and for machines (JSON)."""

from __future__ import annotations

import json
from typing import Any

from rich import box
from rich.table import Table

from amtflow import report
from amtflow.batch import completion_code
from amtflow.report import shown
from amtflow.runs import JobRunRecord, JobState
from amtflow.state.status import RunDetail, RunSummary, StatusReport, duration_seconds
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


def status_json(status: StatusReport) -> dict[str, Any]:
    """The report as plain JSON data: ``{"runs": [...]}`` or ``{"run": {...}, "jobs": [...]}``."""
    if status.detail is None:
        apart = status.simulated_apart
        return {
            "state_dir": str(status.state_dir),
            "runs": [_run_json(s) for s in status.runs],
            "simulated_state_dir": None if apart is None else str(apart),
        }
    return {
        "state_dir": str(status.state_dir),
        "run": _run_json(status.detail.summary),
        "jobs": [_job_json(job, status.detail.marks.get(job.job, {})) for job in status.detail.jobs]
        + [
            {"job": job, "state": "waiting", "waiting_until": until}
            for job, until in status.detail.waiting().items()
        ],
    }


def _run_json(summary: RunSummary) -> dict[str, Any]:
    run = summary.run
    return {
        "run_id": run.run_id,
        "schedule": run.schedule,
        "date": run.date,
        "state": run.state.value,
        "stale": summary.stale,
        "simulated": run.simulated,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "duration_seconds": summary.duration_s,
        "definitions": run.definitions,
        "digest": run.digest,
        "pid": run.pid,
        "jobs": dict(sorted(summary.counts.items())),
    }


def _job_json(job: JobRunRecord, marks: dict[str, tuple[str, str]]) -> dict[str, Any]:
    code = job.completion_code
    return {
        "job": job.job,
        "state": job.state.value,
        "attempt": job.attempt,
        "completion_code": code,
        "completion_name": None if code is None else completion_code(code).name,
        "task_id": job.task_id or None,
        "batch_request_id": job.batch_request_id,
        "started_at": job.started_at,
        "ended_at": job.ended_at,
        "duration_seconds": duration_seconds(job),
        "log_path": job.log_path,
        "last_seq": job.last_seq,
        "reason": job.reason,
        "late": "late" in marks,
        "late_reason": marks.get("late", ("", ""))[1],
        "missed_latest_start": "missed_start" in marks,
    }


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
    if detail.jobs or detail.waiting():
        wide = not report.stdout.is_terminal or report.stdout.width >= _WIDE
        _print(_jobs_table(detail, with_reason=wide))
        if not wide:
            _print_lines("reasons", [(job.job, job.reason) for job in detail.jobs if job.reason])
        _print_lines("logs", [(job.job, job.log_path) for job in detail.jobs if job.log_path])
    else:
        report.stdout.print("no job has started yet")
    _print_stale_note((detail.summary,))


def _print(table: Table) -> None:
    report.table(table)


def _print_stale_note(runs: tuple[RunSummary, ...]) -> None:
    for summary in runs:
        if summary.stale:
            report.stdout.print(
                f"[red]stale[/]: run {shown(summary.run.run_id)} is recorded as running, but its"
                f" process (pid {summary.run.pid}) is gone: it was killed or crashed"
            )


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
            _styled(job.state.value) + late,
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
    return table


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
