"""``amtflow status --format json``: a run, or the list of runs, as plain JSON data. Its keys
are a contract (docs/operations.md): every entry of ``jobs`` has every key, started or not."""

from __future__ import annotations

from typing import Any

from amtflow.batch import completion_code
from amtflow.operator import OperatorRecord
from amtflow.runs import JobRunRecord, RunState
from amtflow.state.status import Notice, RunDetail, RunSummary, StatusReport, duration_seconds


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
        + [_unstarted_json(status.detail, job) for job in unstarted(status.detail)],
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


def unstarted(detail: RunDetail) -> list[str]:
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
    entry.update(job=job, name=job, state=state, attempt=0, late=False, missed_latest_start=False)
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
    held = detail.operator.held.get(job.job) if job.attempt == 0 and is_live(detail) else None
    retry = detail.next_attempt(job)
    return {
        "job": job.job,
        "name": job.job,  # the same, as `--json` names it too
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
    "job", "name", "state", "attempt", "completion_code", "completion_name", "task_id",
    "batch_request_id", "started_at", "ended_at", "duration_seconds", "log_path", "last_seq",
    "reason", "late", "late_reason", "missed_latest_start", "operator", "next_attempt",
    "waiting_until",
)  # fmt: skip


def is_live(detail: RunDetail) -> bool:
    """The run is going on now: recorded as running, and its process is there."""
    return detail.summary.run.state is RunState.RUNNING and not detail.summary.stale
