"""A schedule's history: its last runs, and each job's duration over them as a small chart.

A job's duration in a run is the time from its first attempt's Start to its last attempt's end
(retries included: that is what the night waited for). ``trend`` flags a job whose last duration
is well above its usual one, so a job that gets slower night after night stands out.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from amtflow.errors import StateError
from amtflow.report.html.document import document, text, write_page
from amtflow.report.html.render import clock, counts
from amtflow.runs import JobRunRecord, RunRecord
from amtflow.state import Journal, duration_seconds, journal_path
from amtflow.state.files import is_file, refuse_unusual
from amtflow.timeofday import format_duration
from amtflow.wording import shown_zone, state_word

SLOWER = 1.5  # the last duration this many times the median of the earlier ones
MIN_SLOWER_S = 1.0  # and at least this many seconds more: noise in short jobs is no trend


@dataclass(frozen=True)
class HistoryRun:
    run: RunRecord
    counts: dict[str, int]
    duration_s: float | None
    jobs: dict[str, float]  # job -> seconds, for the jobs that started and ended


@dataclass(frozen=True)
class JobHistory:
    job: str
    durations: tuple[float | None, ...]  # oldest run first; None where it did not run

    @property
    def trend(self) -> str:
        return trend(self.durations)


def job_durations(attempts: Sequence[JobRunRecord]) -> dict[str, float]:
    """Each job's first Start to last end, for jobs whose every attempt ended."""
    spans: dict[str, tuple[str, str]] = {}
    unfinished = set()
    for record in attempts:
        if not record.started_at:
            continue
        if not record.ended_at:
            unfinished.add(record.job)
            continue
        first, last = spans.get(record.job, (record.started_at, record.ended_at))
        spans[record.job] = (min(first, record.started_at), max(last, record.ended_at))
    return {
        job: (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()
        for job, (start, end) in spans.items()
        if job not in unfinished
    }


def trend(durations: Sequence[float | None]) -> str:
    """``"slower"`` when the last duration is well above the median of the earlier ones."""
    known = [d for d in durations if d is not None]
    if len(known) < 3 or durations[-1] is None:
        return ""
    usual = statistics.median(known[:-1])
    last = known[-1]
    return "slower" if last > SLOWER * usual and last - usual >= MIN_SLOWER_S else ""


def job_histories(runs: Sequence[HistoryRun]) -> list[JobHistory]:
    """Each job seen in ``runs`` (oldest first), with its duration in each run."""
    names = sorted({job for run in runs for job in run.jobs})
    return [JobHistory(job, tuple(run.jobs.get(job) for run in runs)) for job in names]


def read_history(state_dir: Path, schedule: str, last: int) -> list[HistoryRun]:
    """The last ``last`` runs of ``schedule``, oldest first; StateError when it has none."""
    if not is_file(journal_path(state_dir)):
        refuse_unusual(journal_path(state_dir))
        raise StateError(f"no runs of schedule {schedule} (no runs yet in {state_dir})")
    with Journal.open(state_dir, read_only=True) as journal:
        runs = journal.schedule_runs(schedule, last)
        if not runs:
            raise StateError(f"no runs of schedule {schedule} in {state_dir}")
        history = [_history_run(run, journal.job_runs(run.run_id)) for run in reversed(runs)]
    return history


def _history_run(run: RunRecord, attempts: list[JobRunRecord]) -> HistoryRun:
    latest: dict[str, str] = {}
    for record in attempts:
        latest[record.job] = record.state.value  # rows come in the order they were recorded
    tally: dict[str, int] = {}
    for state in latest.values():
        tally[state] = tally.get(state, 0) + 1
    return HistoryRun(run, tally, duration_seconds(run), job_durations(attempts))


def write_history_report(state_dir: Path, schedule: str, last: int, html_path: Path) -> int:
    """Write the history page of ``schedule``'s last ``last`` runs; returns how many it shows."""
    runs = read_history(state_dir, schedule, last)
    write_page(html_path, history_document(schedule, runs))
    return len(runs)


def history_document(schedule: str, runs: Sequence[HistoryRun]) -> str:
    """The whole HTML page of a schedule's history."""
    title = f"{schedule}: the last {len(runs)} runs — amtflow history"
    body = (
        f'<header><h1>{text(schedule)} <span class="date">history of the last '
        f"{len(runs)} run{'' if len(runs) == 1 else 's'}</span></h1></header>"
        f"{_runs_table(runs)}{_jobs_table(job_histories(runs), runs)}"
    )
    return document(title, body, {})


def _runs_table(runs: Sequence[HistoryRun]) -> str:
    rows = "\n".join(
        "<tr>"
        f'<td data-v="{text(h.run.date)}">{text(h.run.date)}</td>'
        f'<td data-v="{text(h.run.run_id)}">{text(h.run.run_id)}</td>'
        f'<td data-v="{text(h.run.state.value)}">{text(state_word(h.run.state))}</td>'
        f'<td data-v="{text(h.run.started_at)}">'
        f"{text(clock(h.run.started_at, date=True, tz=shown_zone(h.run)))}</td>"
        f'<td data-v="{h.duration_s or 0:.3f}">{text(format_duration(h.duration_s))}</td>'
        f'<td data-v="{sum(h.counts.values())}">{text(counts(h.counts))}</td>'
        "</tr>"
        for h in runs
    )
    head = _head(
        ("Date", "text"),
        ("Run", "text"),
        ("State", "text"),
        ("Started", "text"),
        ("Duration", "number"),
        ("Jobs", "number"),
    )
    return (
        '<section id="runs"><h2>Runs (oldest first)</h2>'
        f'<table id="run-table" class="sortable">{head}<tbody>\n{rows}\n</tbody></table></section>'
    )


def _jobs_table(jobs: Sequence[JobHistory], runs: Sequence[HistoryRun]) -> str:
    dates = [h.run.date for h in runs]
    rows = "\n".join(_job_row(job, dates) for job in jobs)
    head = _head(
        ("Job", "text"),
        ("Duration over the runs", "number"),
        ("Last", "number"),
        ("Median", "number"),
        ("Longest", "number"),
        ("Trend", "text"),
    )
    return (
        '<section id="job-history"><h2>Jobs: duration over the runs</h2>'
        f'<table id="history-table" class="sortable">{head}<tbody>\n{rows}\n</tbody></table>'
        "</section>"
    )


def _job_row(job: JobHistory, dates: Sequence[str]) -> str:
    known = [d for d in job.durations if d is not None]
    last = job.durations[-1]
    median = statistics.median(known) if known else None
    longest = max(known) if known else None
    cells = (
        (text(job.job), text(job.job)),
        (sparkline(job.durations, dates), f"{last or 0:.3f}"),
        (text(format_duration(last) or "did not run"), f"{-1 if last is None else last:.3f}"),
        (text(format_duration(median)), f"{median or 0:.3f}"),
        (text(format_duration(longest)), f"{longest or 0:.3f}"),
        (f'<span class="slower">{job.trend}</span>' if job.trend else "", job.trend),
    )
    return "<tr>" + "".join(f'<td data-v="{v}">{shown}</td>' for shown, v in cells) + "</tr>"


def _head(*columns: tuple[str, str]) -> str:
    cells = "".join(f'<th scope="col" data-type="{k}">{text(n)}</th>' for n, k in columns)
    return f"<thead><tr>{cells}</tr></thead>"


def sparkline(
    durations: Sequence[float | None], dates: Sequence[str], width: int = 140, height: int = 26
) -> str:
    """A small inline SVG line of durations (oldest left), with a text equivalent for readers."""
    known = [d for d in durations if d is not None]
    top = max(known, default=0.0) or 1.0
    step = (width - 6) / max(1, len(durations) - 1)
    points = [
        (3 + i * step, height - 3 - (d / top) * (height - 6))
        for i, d in enumerate(durations)
        if d is not None
    ]
    said = "; ".join(
        f"{date}: {format_duration(d) if d is not None else 'did not run'}"
        for date, d in zip(dates, durations, strict=True)
    )
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dot = f'<circle cx="{points[-1][0]:.1f}" cy="{points[-1][1]:.1f}" r="2.5"/>' if points else ""
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{text(said)}"><title>{text(said)}</title>'
        f'<polyline points="{line}"/>{dot}</svg>'
    )
