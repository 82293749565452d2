"""A run's page as HTML: the static header and table (readable with scripts off and by a screen
reader), and the data island the script draws the timeline from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from amtflow.report.html.document import document, text
from amtflow.report.html.logs import PageLog
from amtflow.report.html.page import RunPage
from amtflow.report.html.timeline import Bar, Mark, Timeline, job_spans
from amtflow.runs import JobRunRecord, JobState
from amtflow.timeofday import format_duration
from amtflow.wording import SIMULATED, local, shown_zone, state_word, zone_name

STATE_WORDS = {state.value: state_word(state) for state in JobState}  # amtflow.wording's
_COLUMNS = (
    ("Job", "text"),
    ("Attempt", "number"),
    ("Agent", "text"),
    ("State", "text"),
    ("Critical path", "text"),
    ("Code", "number"),
    ("Start", "text"),  # local time; the zone is in the header's times and the column titles
    ("End", "text"),
    ("Duration", "number"),
    ("Batch request id", "number"),
    ("Reason", "text"),
    ("Log", "text"),
)


def run_document(page: RunPage) -> str:
    """The whole HTML page of a run."""
    run = page.summary.run
    title = f"{run.schedule} {run.date} — amtflow run {run.run_id}"
    parts = (_header(page), _operator_section(page), _chart_section(), _log_section(), _table(page))
    body = "\n".join(part for part in parts if part)
    return document(title, body, page_data(page))


def _header(page: RunPage) -> str:
    summary, run = page.summary, page.summary.run
    state = "interrupted (its runner is gone)" if summary.stale else state_word(run.state)
    state += f", {SIMULATED} (embedded AMT simulator)" if run.simulated else ""
    facts = (
        ("Run", run.run_id),
        ("State", state),
        ("Started", clock(run.started_at, date=True, tz=shown_zone(run))),
        (
            "Ended",
            clock(run.ended_at, date=True, tz=shown_zone(run)) if run.ended_at else "still running",
        ),
        ("Duration", format_duration(summary.duration_s)),
        ("Jobs", counts(summary.counts)),
        ("Definitions", run.definitions),
        ("Digest", run.digest[:16] or "unknown"),
        ("Generated", clock(page.generated.isoformat(), date=True)),
    )
    items = "".join(f"<dt>{text(k)}</dt><dd>{text(v)}</dd>" for k, v in facts)
    note = f'<p class="note">{text(page.note)}</p>' if page.note else ""
    return (
        f'<header><h1>{text(run.schedule)} <span class="date">{text(run.date)}</span></h1>'
        f'<dl class="facts" id="facts" data-state="{text(run.state.value)}">{items}</dl>'
        f"{note}{_critical(page.timeline)}</header>"
    )


def _operator_section(page: RunPage) -> str:
    """What operators did to the run's jobs (hold, release, skip, mark OK): who, what, when."""
    if not page.actions:
        return ""
    rows = "".join(
        f"<tr><td>{text(clock(a.at, date=True))}</td><td>{text(a.user)}</td>"
        f"<td>{text(a.action.past)}</td><td>{text(a.job)}</td></tr>"
        for a in page.actions
    )
    return (
        '<section id="operator"><h2>Operator actions</h2><table><thead><tr><th>When (UTC)</th>'
        f"<th>Who</th><th>What</th><th>Job</th></tr></thead><tbody>{rows}</tbody></table>"
        "</section>"
    )


def _critical(timeline: Timeline) -> str:
    if not timeline.critical:
        return '<p id="critical">Critical path: none (no job ran, or dependencies unknown)</p>'
    spans = job_spans(timeline.bars)
    length = spans[timeline.critical[-1]].end - spans[timeline.critical[0]].start
    chain = " → ".join(timeline.critical)
    return f'<p id="critical"><strong>Critical path</strong> ({format_duration(length)}): {text(chain)}</p>'


def _chart_section() -> str:
    return (
        '<section id="timeline" aria-labelledby="timeline-title">'
        '<h2 id="timeline-title">Timeline</h2>'
        "<noscript><p>The timeline needs scripts; the table below holds the same data.</p>"
        "</noscript>"
        '<div id="legend"></div><div id="chart"></div>'
        '<div id="tip" role="tooltip" hidden></div></section>'
    )


def _log_section() -> str:
    return (
        '<section id="log" hidden aria-live="polite" aria-labelledby="log-title">'
        '<h2 id="log-title">Log</h2><p id="log-note"></p>'
        '<p><a id="log-link"></a> <button type="button" id="log-close">Close</button></p>'
        '<pre id="log-text"></pre></section>'
    )


def _table(page: RunPage) -> str:
    tz = shown_zone(page.summary.run)
    zone = _zone_of(page.summary.run.started_at, tz)
    head = "".join(
        f'<th scope="col" data-type="{kind}">{text(_titled(name, zone))}</th>'
        for name, kind in _COLUMNS
    )
    critical = set(page.timeline.critical)
    agents = {bar.record.job: bar.agent for bar in page.timeline.bars}
    agents.update((mark.record.job, mark.agent) for mark in page.timeline.marks)
    critical |= {f"{bar.record.job}\0late" for bar in page.timeline.bars if bar.late}  # flags
    rows = "\n".join(
        _row(
            record,
            agents.get(record.job, ""),
            critical,
            page.logs.get((record.job, record.attempt)),
            tz,
        )
        for record in _table_order(page.attempts)
    )
    return (  # the script moves it out of <noscript> once the timeline is drawn (report.js)
        '<noscript id="jobs-source"><section id="jobs" aria-labelledby="jobs-title">'
        '<h2 id="jobs-title">Jobs</h2>'
        f'<table id="job-table" class="sortable"><thead><tr>{head}</tr></thead><tbody>\n{rows}\n'
        "</tbody></table></section></noscript>"
    )


def _table_order(attempts: Iterable[JobRunRecord]) -> list[JobRunRecord]:
    return sorted(attempts, key=lambda r: (r.started_at or r.ended_at or "", r.job, r.attempt))


def _row(
    record: JobRunRecord,
    agent: str,
    critical: set[str],
    log: PageLog | None,
    tz: dt.tzinfo | None = None,
) -> str:
    seconds = _seconds(record)
    code = record.completion_code
    cells = (
        (record.job, record.job),
        (record.attempt, record.attempt),
        (agent, agent),
        (_state_words(record, f"{record.job}\0late" in critical), record.state.value),
        ("yes" if record.job in critical else "", ""),
        ("" if code is None else code, -1 if code is None else code),
        (clock(record.started_at, tz=tz), record.started_at or ""),
        (clock(record.ended_at, tz=tz), record.ended_at or ""),
        (format_duration(seconds), -1 if seconds is None else f"{seconds:.3f}"),
        (record.batch_request_id or "", record.batch_request_id or -1),
        (record.reason, record.reason),
    )
    tds = "".join(f'<td data-v="{text(v)}">{text(shown)}</td>' for shown, v in cells)
    link = f'<a href="{text(log.href)}">log file</a>' if log and log.href else ""
    return f'<tr class="s-{text(record.state.value)}">{tds}<td>{link}</td></tr>'


def _state_words(record: JobRunRecord, late: bool) -> str:
    words = STATE_WORDS.get(record.state.value, record.state.value)
    return f"{words}, late" if late else words


def _seconds(record: JobRunRecord) -> float | None:
    if not record.started_at:
        return None
    end = dt.datetime.fromisoformat(record.ended_at) if record.ended_at else None
    if end is None:
        return None
    return max(0.0, (end - dt.datetime.fromisoformat(record.started_at)).total_seconds())


def page_data(page: RunPage) -> dict[str, object]:
    """The data island: compact arrays the page's script draws the timeline from."""
    timeline = page.timeline
    lanes = {lane.agent: index for index, lane in enumerate(timeline.lanes)}
    log_keys = {key: index for index, key in enumerate(page.logs)}
    return {
        "origin": timeline.origin.isoformat(),
        "length": round(timeline.length, 3),
        "lanes": [[lane.agent, lane.rows, lane.marks] for lane in timeline.lanes],
        "bars": [_bar(bar, lanes, log_keys) for bar in timeline.bars],
        "marks": [_mark(mark, lanes) for mark in timeline.marks],
        "logs": [_log(log) for log in page.logs.values()],
        "critical": list(timeline.critical),
        "states": STATE_WORDS,
    }


def _bar(bar: Bar, lanes: Mapping[str, int], logs: Mapping[tuple[str, int], int]) -> list[object]:
    r = bar.record
    return [
        r.job,
        r.attempt,
        lanes[bar.agent],
        bar.row,
        r.state.value,
        round(bar.start, 3),
        round(bar.end, 3),
        int(bar.open),
        int(bar.critical),
        r.batch_request_id,
        r.completion_code,
        bar.code_name,
        r.reason,
        r.started_at,
        r.ended_at,
        logs.get((r.job, r.attempt), -1),
        int(bar.late),
        None if bar.wait_from is None else round(bar.wait_from, 3),
    ]


def _mark(mark: Mark, lanes: Mapping[str, int]) -> list[object]:
    r = mark.record
    return [r.job, lanes[mark.agent], r.state.value, round(mark.at, 3), r.reason]


def _log(log: PageLog) -> list[object]:
    return [log.text, log.href, log.size, int(log.whole)]


def clock(when: str | None, *, date: bool = False, tz: dt.tzinfo | None = None) -> str:
    """An ISO time as ``HH:MM:SS.mmm`` in local time (``TZ``), with its date and zone in front
    and behind when asked (``amtflow.wording``: what people see is local, with the zone), or in
    ``tz`` (the schedule's zone)."""
    if not when:
        return ""
    moment = local(dt.datetime.fromisoformat(when), tz)
    shown = moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    return f"{moment.date().isoformat()} {shown} {zone_name(moment)}" if date else shown


def _zone_of(when: str | None, tz: dt.tzinfo | None) -> str:
    return zone_name(local(dt.datetime.fromisoformat(when), tz)) if when else ""


def _titled(name: str, zone: str) -> str:
    return f"{name} ({zone})" if zone and name in ("Start", "End") else name


def counts(by_state: Mapping[str, int]) -> str:
    """``9 jobs: 3 OK, 2 failed, ...`` in the order of the states' lifecycle."""
    total = sum(by_state.values())
    parts = [
        f"{by_state[state]} {word}" for state, word in STATE_WORDS.items() if by_state.get(state)
    ]
    return f"{total} job{'' if total == 1 else 's'}" + (f": {', '.join(parts)}" if parts else "")
