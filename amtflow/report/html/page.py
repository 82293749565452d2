"""A run's page, read from the journal and the log files, then written as one HTML file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from amtflow.operator import OperatorRecord
from amtflow.report.html.facts import RunFacts, recorded_facts
from amtflow.report.html.logs import PageLog, page_logs
from amtflow.report.html.timeline import Timeline, build_timeline
from amtflow.runs import JobRunRecord
from amtflow.state import Journal, RunSummary, read_status


@dataclass(frozen=True)
class RunPage:
    """Everything a run's page shows."""

    summary: RunSummary
    timeline: Timeline
    attempts: tuple[JobRunRecord, ...]
    logs: dict[tuple[str, int], PageLog]
    note: str
    generated: dt.datetime
    actions: tuple[OperatorRecord, ...] = ()  # what operators did to its jobs, in order


def read_run_page(
    state_dir: Path,
    run_ref: str,
    html_path: Path,
    facts: RunFacts | None = None,
    now: dt.datetime | None = None,
) -> RunPage:
    """The page of run ``run_ref`` (an id or a unique prefix) as the journal has it now.

    ``facts`` (agents, dependencies) default to the definitions recorded for the run.
    """
    detail = read_status(state_dir, run_ref).detail
    assert detail is not None
    run = detail.summary.run
    with Journal.open(state_dir, read_only=True) as journal:
        attempts = tuple(journal.job_runs(run.run_id))
    facts = facts or recorded_facts(run)
    now = now or dt.datetime.now(dt.timezone.utc)
    timeline = build_timeline(run, attempts, facts, now, detail.marks)
    logs = page_logs(attempts, html_path)
    return RunPage(detail.summary, timeline, attempts, logs, facts.note, now, detail.actions)
