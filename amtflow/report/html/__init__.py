"""Self-contained HTML reports of runs: a run's timeline, and a schedule's history.

    write_run_report(state_dir, run, file)            one run: header, Gantt timeline by agent,
                                                      critical path, job logs, sortable table
    write_history_report(state_dir, schedule, n, file) the last n runs of a schedule, each job's
                                                      duration over them as a small chart

Pure pieces: ``critical`` (the critical path), ``timeline`` (bars packed into rows per agent),
``history`` (durations and trends). ``page`` and ``logs`` read the journal and the log files;
``render`` and ``document`` make the one HTML file, with no network and nothing external.
"""

from __future__ import annotations

from pathlib import Path

from amtflow.report.html.document import write_page
from amtflow.report.html.facts import JobFacts, RunFacts, plan_facts, recorded_facts
from amtflow.report.html.history import write_history_report
from amtflow.report.html.page import RunPage, read_run_page
from amtflow.report.html.render import run_document

__all__ = [
    "JobFacts",
    "RunFacts",
    "RunPage",
    "plan_facts",
    "recorded_facts",
    "write_history_report",
    "write_run_report",
]


def write_run_report(
    state_dir: Path, run_ref: str, html_path: Path, facts: RunFacts | None = None
) -> RunPage:
    """Write the page of run ``run_ref`` to ``html_path``; returns what it shows.

    ``facts`` (agents, dependencies) default to the definitions recorded for the run.
    """
    page = read_run_page(state_dir, run_ref, html_path, facts)
    write_page(html_path, run_document(page))
    return page
