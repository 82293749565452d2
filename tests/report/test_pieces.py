"""The pure pieces of the HTML report: rows per agent, durations and trends, escaping, the CSP,
and which logs a page embeds."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import re
from pathlib import Path

from amtflow.report.html.document import asset, document, json_island, text
from amtflow.report.html.facts import UNKNOWN_AGENT, JobFacts, RunFacts
from amtflow.report.html.history import job_durations, sparkline, trend
from amtflow.report.html.logs import page_logs, relative_href
from amtflow.report.html.timeline import build_timeline
from amtflow.runs import JobRunRecord, JobState, RunRecord, RunState

T0 = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.timezone.utc)


def at(seconds: float | None) -> str | None:
    return None if seconds is None else (T0 + dt.timedelta(seconds=seconds)).isoformat()


def attempt(
    job: str,
    start: float | None,
    end: float | None,
    state: JobState = JobState.OK,
    number: int = 1,
    log_path: str | None = None,
) -> JobRunRecord:
    return JobRunRecord(
        run_id="R",
        job=job,
        attempt=number,
        task_id="t" if start is not None else "",
        state=state,
        started_at=at(start),
        ended_at=at(end),
        log_path=log_path,
    )


def run(ended: float | None = 10.0) -> RunRecord:
    state = RunState.RUNNING if ended is None else RunState.OK
    return RunRecord("R", "NIGHTLY", "2026-11-24", state, at(0) or "", at(ended))


FACTS = RunFacts(
    {
        "A": JobFacts("amt1"),
        "B": JobFacts("amt1", ("A",)),
        "C": JobFacts("amt2", ("A",)),
        "D": JobFacts("amt1", ("B",)),
    }
)


def test_bars_share_a_row_only_when_they_do_not_overlap() -> None:
    attempts = [
        attempt("A", 0, 2),
        attempt("B", 1, 3),  # overlaps A: a second row
        attempt("D", 2.5, 4),  # A's row is free again
        attempt("C", 0, 4),
    ]
    timeline = build_timeline(run(4), attempts, FACTS, T0)
    rows = {bar.record.job: (bar.agent, bar.row) for bar in timeline.bars}
    assert rows == {"A": ("amt1", 0), "B": ("amt1", 1), "D": ("amt1", 0), "C": ("amt2", 0)}
    assert [(lane.agent, lane.rows) for lane in timeline.lanes] == [("amt1", 2), ("amt2", 1)]


def test_every_attempt_is_a_bar_and_jobs_never_started_are_marks() -> None:
    attempts = [
        attempt("A", 0, 1),
        attempt("B", 1, 2, JobState.FAILED),
        attempt("B", 3, 4, JobState.FAILED, number=2),
        attempt("D", None, 4, JobState.NOT_RUN),
        attempt("GHOST", None, 4, JobState.SKIPPED),
    ]
    timeline = build_timeline(run(4), attempts, FACTS, T0)
    assert [(b.record.job, b.record.attempt) for b in timeline.bars] == [
        ("A", 1),
        ("B", 1),
        ("B", 2),
    ]
    assert [(m.record.job, m.agent, m.at) for m in timeline.marks] == [
        ("D", "amt1", 4.0),
        ("GHOST", UNKNOWN_AGENT, 4.0),
    ]
    assert timeline.critical == ("A", "B")
    assert {b.record.job for b in timeline.bars if b.critical} == {"A", "B"}


def test_a_running_attempt_ends_now_and_stretches_the_run() -> None:
    now = T0 + dt.timedelta(seconds=30)
    attempts = [attempt("A", 0, 2), attempt("B", 2, None, JobState.RUNNING)]
    timeline = build_timeline(run(None), attempts, FACTS, now)
    running = timeline.bars[-1]
    assert running.open and running.end == 30.0
    assert timeline.length == 30.0
    assert timeline.critical == ("A", "B")


def test_job_durations_span_retries_and_leave_out_unfinished_jobs() -> None:
    attempts = [
        attempt("A", 0, 2),
        attempt("B", 2, 3, JobState.FAILED),
        attempt("B", 5, 9, JobState.OK, number=2),
        attempt("C", 1, None, JobState.RUNNING),
        attempt("D", None, 9, JobState.NOT_RUN),
    ]
    assert job_durations(attempts) == {"A": 2.0, "B": 7.0}


def test_trend_flags_a_job_well_above_its_usual_duration() -> None:
    assert trend([10, 11, 10, 12, 30]) == "slower"
    assert trend([10, 11, 10, 12, 13]) == ""
    assert trend([0.1, 0.1, 0.1, 0.4]) == ""  # four times slower, but by a fraction of a second
    assert trend([10, 30]) == ""  # too few runs to know what is usual
    assert trend([10, 11, 12, None]) == ""  # it did not run last time
    assert trend([10, None, 11, 12, 40]) == "slower"


def test_sparkline_has_a_point_per_run_that_ran_and_says_it_in_words() -> None:
    svg = sparkline([1.0, None, 3.0], ["2026-11-22", "2026-11-23", "2026-11-24"])
    (points,) = re.findall(r'points="([^"]*)"', svg)
    assert len(points.split()) == 2
    assert "2026-11-23: did not run" in svg and "2026-11-24: 3.0s" in svg


def test_json_island_cannot_close_its_script_element() -> None:
    hostile = {"name": "</script><script>alert(1)</script>", "log": "a & b <!-- c -->"}
    island = json_island(hostile)
    assert "<" not in island and ">" not in island and "&" not in island
    assert json.loads(island) == hostile


def test_text_escapes_markup_and_quotes() -> None:
    assert (
        text("<b a=\"1\" b='2'>&</b>") == "&lt;b a=&quot;1&quot; b=&#x27;2&#x27;&gt;&amp;&lt;/b&gt;"
    )


def test_the_csp_allows_exactly_the_inline_style_and_script_and_no_network() -> None:
    page = document("T", "<p>body</p>", {"k": "@@BODY@@"})
    (csp,) = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    csp = html.unescape(csp)
    (style,) = re.findall(r"<style>(.*?)</style>", page, re.S)
    (script,) = re.findall(r"<script>(.*?)</script>", page, re.S)

    def digest(source: str) -> str:
        return "sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()

    assert f"style-src '{digest(style)}'" in csp
    assert f"script-src '{digest(script)}'" in csp
    assert "default-src 'none'" in csp
    assert "http" not in page.lower().replace("http-equiv", "")  # no address of anything
    assert script == asset("report.js") and style == asset("report.css")
    assert "@@BODY@@" in page and page.count("<p>body</p>") == 1  # slots are filled once


def test_page_logs_are_bounded_and_failed_ones_come_first(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    attempts = []
    for index in range(6):
        path = logs / f"J{index}.log"
        path.write_text(f"job {index}\n" + "x" * 1000 + "\nLAST LINE\n")
        state = JobState.FAILED if index == 5 else JobState.OK
        attempts.append(attempt(f"J{index}", 0, 1, state, log_path=str(path)))
    big = logs / "BIG.log"
    big.write_text("start\n" + "y" * 5000 + "\nTHE END\n")
    attempts.append(attempt("BIG", 0, 1, JobState.FAILED, log_path=str(big)))
    attempts.append(attempt("GONE", 0, 1, log_path=str(logs / "purged.log")))
    page = tmp_path / "out" / "report.html"

    embedded = page_logs(attempts, page, bound=2000, budget=4500)
    assert embedded["J5", 1].whole and "LAST LINE" in (embedded["J5", 1].text or "")
    big_log = embedded["BIG", 1]
    assert not big_log.whole and big_log.size == big.stat().st_size
    assert (big_log.text or "").endswith("THE END\n") and len(big_log.text or "") == 2000
    assert embedded["J0", 1].whole  # 1016 + 2000 + 1016 bytes so far
    assert embedded["J1", 1].text is not None and not embedded["J1", 1].whole  # the budget's end
    assert embedded["J2", 1].text is None and embedded["J2", 1].href == "../logs/J2.log"
    assert sum(len((log.text or "").encode()) for log in embedded.values()) <= 4500
    assert embedded["GONE", 1].size == -1


def test_log_links_are_relative_and_quoted(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "NIGHTLY" / "R&D #1.log"
    assert relative_href(log, tmp_path / "site" / "r.html") == "../logs/NIGHTLY/R%26D%20%231.log"


def test_late_jobs_are_flagged_and_a_wait_for_the_start_time_keeps_its_row() -> None:
    flags = {
        "B": {"waiting": (at(1) or "", "2026-11-24T06:00:03+00:00")},
        "C": {"late": (at(3) or "", "past its deadline 06:00:03")},
    }
    attempts = [
        attempt("A", 0, 2),
        attempt("B", 3, 4),  # waited from 1 s: the row of A (busy until 2 s) is not free
        attempt("B", 5, 6, number=2),
        attempt("C", 0, 5),
    ]
    timeline = build_timeline(run(6), attempts, FACTS, T0, flags)
    bars = {(b.record.job, b.record.attempt): b for b in timeline.bars}
    assert bars["B", 1].wait_from == 1.0 and bars["B", 2].wait_from is None
    assert bars["B", 1].row == 1 and bars["A", 1].row == 0
    assert bars["C", 1].late and not bars["A", 1].late
