"""How ``amtflow plan`` shows a plan: waves of resolved AMT requests, and what does not run."""

from __future__ import annotations

import datetime as dt
import json

from rich.tree import Tree

from amtflow.plan import Plan, PlannedJob
from amtflow.report import plain, shown, stdout, table
from amtflow.task import TaskType
from amtflow.timeofday import JobTimes
from amtflow.timeofday import shown as shown_instant


def show(plan: Plan, fmt: str) -> None:
    """Print ``plan`` as text (a tree of waves) or JSON."""
    if fmt == "json":
        plain(json.dumps(plan_dict(plan), indent=2))
        return
    title = f"schedule [bold]{shown(plan.schedule.name)}[/] for {plan.date}"
    if plan.reason:
        stdout.print(f"{title}: nothing runs ({shown(plan.reason)})")
        return
    starts = f", starts {shown_instant(plan.start)}" if plan.start else ""
    zone = f" ({shown(plan.timezone)})" if plan.start or any(j.times.any for j in plan.jobs) else ""
    tree = Tree(f"{title}{zone}: {len(plan.jobs)} job(s) in {len(plan.waves)} wave(s){starts}")
    for number, wave in enumerate(plan.waves, start=1):
        branch = tree.add(f"wave {number}")
        for job in wave:
            _add_job(branch, job)
    if plan.skipped:
        skipped = tree.add("not run on this date")
        for off in plan.skipped:
            skipped.add(f"{shown(off.name)}: {shown(off.reason)}")
    table(tree)  # whole lines when piped, like tables


def _add_job(branch: Tree, job: PlannedJob) -> None:
    request = job.request.shown  # secrets masked
    kind = "batch job" if request.type is TaskType.BATCH_JOB else "script"
    node = branch.add(
        f"[bold]{shown(job.name)}[/] ({kind} {shown(request.name)} on {shown(job.job.agent)})"
    )
    node.add(
        f"application {shown(request.application)}, submit user {shown(request.submit_user)}, "
        f"station {shown(request.station)}, queue {shown(request.queue or '(default)')}, "
        f"run as {shown(request.user or '(application user)')}"
    )
    if request.parameters:
        node.add("parameters: " + shown(", ".join(request.parameters)))
    if job.depends_on:
        node.add("after: " + ", ".join(f"{shown(d.job)} ({d.on.value})" for d in job.depends_on))
    for assumed in job.assumed_met:
        node.add(f"[yellow]dependency treated as met:[/] {shown(assumed)}")
    if job.times.any:
        node.add(shown(_window(job.times)))


def _window(times: JobTimes) -> str:
    parts = [
        f"{label} {shown_instant(when)}"
        for label, when in (
            ("earliest start", times.not_before),
            ("latest start", times.latest_start),
            ("deadline", times.deadline),
        )
        if when is not None
    ]
    return ", ".join(parts)


def _iso(when: dt.datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def plan_dict(plan: Plan) -> dict[str, object]:
    """The plan as JSON-ready data."""
    return {
        "schedule": plan.schedule.name,
        "date": plan.date.isoformat(),
        "timezone": plan.timezone,
        "start": _iso(plan.start),
        "reason": plan.reason,
        "waves": [[job.name for job in wave] for wave in plan.waves],
        "jobs": [_job_dict(job) for job in plan.jobs],
        "not_run": [{"job": s.name, "name": s.name, "reason": s.reason} for s in plan.skipped],
    }


def _job_dict(job: PlannedJob) -> dict[str, object]:
    request = job.request.shown  # secrets masked
    batch_job = request.type is TaskType.BATCH_JOB
    return {
        "job": job.name,  # as in --json and status --format json; "name" kept for its readers
        "name": job.name,
        "wave": job.wave + 1,
        "agent": job.job.agent,
        "task": request.type.value,
        "application": request.application,
        "submit_user": request.submit_user,
        "user": request.user,
        "station": request.station,
        "queue": request.queue,
        "job_name": request.name if batch_job else None,
        "task_values": list(request.parameters) if batch_job else [],
        "script_name": None if batch_job else request.name,
        "script_parameters": [] if batch_job else list(request.parameters),
        "depends_on": [{"job": d.job, "on": d.on.value} for d in job.depends_on],
        "assumed_met": list(job.assumed_met),
        "earliest_start": _iso(job.times.not_before),
        "latest_start": _iso(job.times.latest_start),
        "deadline": _iso(job.times.deadline),
    }
