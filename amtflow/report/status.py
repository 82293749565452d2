"""``amtflow status`` on the terminal (rich tables) and for machines (JSON)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from rich import box
from rich.table import Table

from amtflow import report
from amtflow.batch import completion_code
from amtflow.errors import StateError
from amtflow.orchestration.record import spec_of
from amtflow.report import shown
from amtflow.runs import JobRunRecord, JobState, OperatorRecord, RunRecord, RunState
from amtflow.state.status import Notice, RunDetail, RunSummary, StatusReport, duration_seconds
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
        "jobs": [_job_json(job, status.detail) for job in status.detail.jobs]
        + [
            _not_started_json(job, "waiting", waiting_until=until)
            for job, until in status.detail.waiting().items()
        ]
        + [_unstarted_json(status.detail, job) for job in _unstarted(status.detail)],
        "operator_actions": [_action_json(a) for a in status.detail.actions],
        "notices": [_notice_json(notice) for notice in status.detail.notices],
    }


def _notice_json(notice: Notice) -> dict[str, Any]:
    return {
        "notification": notice.notification,
        "url": notice.url_index,
        "event": notice.event,
        "delivered": notice.delivered,
        "tries": notice.tries,
        "reason": notice.reason,
        "at": notice.at,
    }


def _unstarted(detail: RunDetail) -> list[str]:
    """Planned jobs with nothing recorded yet, other than those waiting for their start time."""
    waiting = detail.waiting()
    return [job for job in detail.unstarted() if job not in waiting]


def _unstarted_json(detail: RunDetail, job: str) -> dict[str, Any]:
    view = detail.operator
    record = view.skipped.get(job) or view.held.get(job)
    state = "pending" if record is None else record.action.past
    return _not_started_json(job, state, operator=_maybe_action_json(record))


def _not_started_json(job: str, state: str, **known: Any) -> dict[str, Any]:
    """A job with nothing recorded yet, with the same keys as a started one (all unknown)."""
    entry: dict[str, Any] = dict.fromkeys(_JOB_KEYS)
    entry.update(job=job, state=state, attempt=0, late=False, missed_latest_start=False)
    entry.update(known)
    return entry


def _maybe_action_json(record: OperatorRecord | None) -> dict[str, Any] | None:
    return None if record is None else _action_json(record)


def _action_json(record: OperatorRecord) -> dict[str, Any]:
    return {"job": record.job, "action": record.action.value, "user": record.user, "at": record.at}


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


def _job_json(job: JobRunRecord, detail: RunDetail) -> dict[str, Any]:
    code = job.completion_code
    marks = detail.marks.get(job.job, {})
    counted = detail.operator.counted_ok(job.job)
    held = detail.operator.held.get(job.job) if job.attempt == 0 and _live(detail) else None
    retry = detail.next_attempt(job)
    return {
        "job": job.job,
        "state": "held" if held else job.state.value,
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
        "operator": _maybe_action_json(counted or held),
        "next_attempt": None
        if retry is None
        else {"at": retry[0], "attempt": retry[1], "of": retry[2]},
        "waiting_until": None,
    }


# Every entry of "jobs" has these keys, started or not (docs/operations.md).
_JOB_KEYS = (
    "job", "state", "attempt", "completion_code", "completion_name", "task_id",
    "batch_request_id", "started_at", "ended_at", "duration_seconds", "log_path", "last_seq",
    "reason", "late", "late_reason", "missed_latest_start", "operator", "next_attempt",
    "waiting_until",
)  # fmt: skip


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
    for name in _unstarted(detail):
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
    if held is not None and job.attempt == 0 and _live(detail):  # decided again when released
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
    return "[dim]waiting[/]" if _live(detail) else "[dim]not started[/]"


def _live(detail: RunDetail) -> bool:
    return detail.summary.run.state is RunState.RUNNING and not detail.summary.stale


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
