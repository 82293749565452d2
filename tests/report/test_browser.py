"""The HTML report of real runs against the simulator, opened in a real Chromium.

What a person would check: a bar per attempt in the agent's lane, coloured by state; details on
hover and on keyboard focus; a failed job's log on click; markup from jobs shown as text with no
script run; no network request at all; the table sorted by duration, and readable with scripts
off. Every page opened leaves a screenshot in the test's tmp dir.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from amtflow.runs import JobRunRecord, JobState
from amtflow.simulator import Scenario, Simulator
from amtflow.state import Journal
from tests.report.conftest import synthetic_run, two_agent_definitions
from tests.run.conftest import PASSWORD, amtflow, serve_in_thread
from tests.waits import wait_for_batch_request_id

DATE = "2026-11-24"
HOSTILE_LINES = (
    "<script>window.pwned = 1</script>",
    '<img src="x" onerror="window.pwned = 2">',
    "totals & <b>bold</b> </pre>",
)
SCENARIO = {
    "jobs": {
        "EXTRACT": {"duration": 0.4, "messages": list(HOSTILE_LINES)},
        "REPORT": {"duration": 0.2, "end_code": 11, "messages": ["report failed: no data"]},
        "KILLEDJOB": {"duration": 0.3, "end_code": 3},
        "RD": {"duration": 0.8},
    },
    "default": {"duration": 0.1},
}
JOBS = [
    {"name": "EXTRACT", "task": "batch_job", "job_name": "EXTRACT"},
    {
        "name": "REPORT",
        "task": "batch_job",
        "job_name": "REPORT",
        "depends_on": ["EXTRACT"],
        "retry": {"attempts": 1, "delay": "1s", "on_codes": [11]},
    },
    {"name": "MAIL", "task": "batch_job", "job_name": "MAIL", "depends_on": ["REPORT"]},
    {
        "name": "RECOVER",
        "task": "batch_job",
        "job_name": "RECOVER",
        "depends_on": [{"job": "REPORT", "on": "failed"}],
    },
    {
        "name": "SKIPME",
        "task": "batch_job",
        "job_name": "SKIPME",
        "depends_on": [{"job": "EXTRACT", "on": "failed"}],
    },
    {"name": "KILLEDJOB", "task": "batch_job", "job_name": "KILLEDJOB", "agent": "amt2"},
    {"name": "R&D_LOAD", "task": "batch_job", "job_name": "RD", "agent": "amt2"},
]
WORDS = {"ok": "ok", "failed": "failed", "killed": "killed", "running": "running"}
COLOURS = {  # report.css
    "ok": "rgb(46, 125, 50)",
    "failed": "rgb(198, 40, 40)",
    "killed": "rgb(106, 27, 154)",
    "running": "rgb(2, 119, 189)",
    "not_run": "rgb(224, 161, 0)",
    "skipped": "rgb(158, 158, 158)",
}


@dataclass
class ReportedRun:
    folder: Path
    run_id: str
    run_html: Path  # written by amtflow run --html
    report_html: Path  # written by amtflow report RUN --html
    attempts: list[JobRunRecord]


def run_id_of(state_dir: Path) -> str:
    with Journal.open(state_dir) as journal:
        return journal.runs(1)[0].run_id


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportedRun]:
    """One real run with ok, failed (retried), not run, skipped and killed jobs on two agents."""
    folder = tmp_path_factory.mktemp("mixed")
    simulator = Simulator(scenario=Scenario.from_mapping(SCENARIO))
    for live in serve_in_thread(simulator):
        schedule = two_agent_definitions(folder, live.url, JOBS)
        result = amtflow(
            "run", schedule, "--date", DATE, "--plain", "--html", folder / "site" / "run.html",
            "--log-dir", folder / "logs", "--state-dir", folder / "state", cwd=folder,
        )  # fmt: skip
        assert result.returncode == 1, result.stderr
        assert "wrote " in result.stdout and "Traceback" not in result.stderr
    run_id = run_id_of(folder / "state")
    report = amtflow(
        "report", run_id[:20], "--html", folder / "report.html", "--state-dir", folder / "state",
        cwd=folder,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert f"wrote {folder / 'report.html'} (run {run_id})" in report.stdout
    with Journal.open(folder / "state") as journal:
        attempts = journal.job_runs(run_id)
    yield ReportedRun(
        folder, run_id, folder / "site" / "run.html", folder / "report.html", attempts
    )


def bars_of(page: Any) -> list[list[str]]:
    """Each bar's label, state class and colour as the browser computed it."""
    return sorted(
        page.eval_on_selector_all(
            ".bar",
            """els => els.map(e => [e.getAttribute('aria-label'),
                 [...e.classList].find(c => c.startsWith('s-')).slice(2),
                 getComputedStyle(e).backgroundColor])""",
        )
    )


def test_a_bar_per_attempt_in_its_agents_lane_coloured_by_state(mixed, open_report) -> None:  # type: ignore[no-untyped-def]
    started = [r for r in mixed.attempts if r.started_at]
    expected = sorted(
        [
            f"{r.job}, attempt {r.attempt}, {WORDS[r.state.value]}",
            r.state.value,
            COLOURS[r.state.value],
        ]
        for r in started
    )
    assert len(started) == 6  # REPORT twice: a retry is a bar of its own
    for path in (mixed.run_html, mixed.report_html):
        opened = open_report(path)
        page = opened.page
        assert bars_of(page) == expected
        assert page.eval_on_selector_all(
            ".lane .lane-label", "els => els.map(e => e.textContent)"
        ) == ["amt1", "amt2"]
        amt2 = page.eval_on_selector_all(
            ".lane:nth-of-type(3) .bar", "els => els.map(e => e.getAttribute('aria-label'))"
        )
        assert sorted(amt2) == ["KILLEDJOB, attempt 1, killed", "R&D_LOAD, attempt 1, ok"]
        marks = page.eval_on_selector_all(
            ".mark",
            "els => els.map(e => [e.getAttribute('aria-label'), getComputedStyle(e).backgroundColor])",
        )
        assert sorted(marks) == [
            ["MAIL, not run", COLOURS["not_run"]],
            ["SKIPME, skipped", COLOURS["skipped"]],
        ]
        assert page.locator(".bar.retry").count() == 1
        assert opened.console == []


def test_hovering_or_focusing_a_bar_shows_its_details(mixed, open_report) -> None:  # type: ignore[no-untyped-def]
    page = open_report(mixed.report_html, shot="hover").page
    second = next(r for r in mixed.attempts if r.job == "REPORT" and r.attempt == 2)
    page.hover('.bar[aria-label="REPORT, attempt 2, failed"]')
    tip = page.locator("#tip")
    assert tip.is_visible()
    details = dict(zip(tip.locator("dt").all_inner_texts(), tip.locator("dd").all_inner_texts()))
    assert details["Job"] == "REPORT" and details["Attempt"] == "2" and details["Agent"] == "amt1"
    assert details["Batch request id"] == str(second.batch_request_id)
    assert details["Completion code"] == "11 ERROR"
    assert details["State"].startswith("failed")
    assert details["Reason"] == second.reason
    assert details["Start"] == second.started_at[11:19]  # type: ignore[index]
    page.screenshot(path=str(mixed.folder / "hover.png"))

    page.mouse.move(0, 0)
    assert not tip.is_visible()
    page.focus('.bar[aria-label="EXTRACT, attempt 1, ok"]')
    assert tip.is_visible() and "EXTRACT" in tip.inner_text()


def test_clicking_a_failed_job_shows_its_log(mixed, open_report) -> None:  # type: ignore[no-untyped-def]
    page = open_report(mixed.report_html).page
    second = next(r for r in mixed.attempts if r.job == "REPORT" and r.attempt == 2)
    log_file = Path(second.log_path or "")
    assert page.locator("#log").is_hidden()
    page.click('.bar[aria-label="REPORT, attempt 2, failed"]')
    assert page.locator("#log-title").inner_text() == "Log of REPORT, attempt 2"
    shown = page.locator("#log-text").text_content()
    assert shown == log_file.read_text(encoding="utf-8")
    assert '"report failed: no data"' in shown and "Completion Code : ERROR (11)" in shown
    assert page.evaluate("document.getElementById('log-link').href") == log_file.resolve().as_uri()
    page.screenshot(path=str(mixed.folder / "log.png"), full_page=True)

    page.focus('.bar[aria-label="KILLEDJOB, attempt 1, killed"]')
    page.keyboard.press("Enter")
    assert page.locator("#log-title").inner_text() == "Log of KILLEDJOB, attempt 1"
    page.click('.mark[aria-label="MAIL, not run"]')
    assert "depends on REPORT" in page.locator("#log-note").inner_text()


def test_markup_from_a_job_stays_text_nothing_runs_nothing_is_fetched(mixed, open_report) -> None:  # type: ignore[no-untyped-def]
    opened = open_report(mixed.report_html)
    page = opened.page
    page.click('.bar[aria-label="EXTRACT, attempt 1, ok"]')
    shown = page.locator("#log-text").text_content()
    extract = next(r for r in mixed.attempts if r.job == "EXTRACT")
    assert shown == Path(extract.log_path or "").read_text(encoding="utf-8")
    for line in HOSTILE_LINES:  # the log quotes each message, escaping its double quotes
        assert line.replace('"', '\\"') in shown
    assert page.locator("#log img, #log b, #log script").count() == 0
    assert page.evaluate("window.pwned") is None
    assert page.locator("td", has_text="R&D_LOAD").count() == 1
    assert opened.requests == [mixed.report_html.resolve().as_uri()]
    assert opened.console == []


def test_the_critical_path_is_highlighted(mixed, open_report) -> None:  # type: ignore[no-untyped-def]
    page = open_report(mixed.report_html).page
    text = page.locator("#critical").inner_text()
    chain = text.split(": ", 1)[1].split(" → ")
    ended = [r for r in mixed.attempts if r.started_at and r.ended_at]
    last = max(ended, key=lambda r: r.ended_at or "")
    assert chain[-1] == last.job
    depends = {
        job["name"]: {d if isinstance(d, str) else d["job"] for d in job.get("depends_on", [])}
        for job in JOBS
    }
    for before, after in zip(chain, chain[1:]):
        assert before in depends[after]
    critical = page.eval_on_selector_all(".bar.crit", "els => els.map(e => e.textContent)")
    assert {name.split(" #")[0] for name in critical} == set(chain)
    assert page.locator(".bar.crit").count() == sum(1 for r in ended if r.job in chain)


def test_the_table_sorts_by_duration_and_reads_without_scripts(mixed, open_report) -> None:  # type: ignore[no-untyped-def]
    page = open_report(mixed.report_html).page
    duration_header = page.locator("#job-table th", has_text="Duration")
    duration_header.locator("button").click()
    column = 9

    def durations() -> list[float]:
        return [
            float(v)
            for v in page.eval_on_selector_all(
                f"#job-table tbody td:nth-child({column})", "els => els.map(e => e.dataset.v)"
            )
        ]

    assert durations() == sorted(durations())
    assert duration_header.get_attribute("aria-sort") == "ascending"
    duration_header.locator("button").click()
    assert durations() == sorted(durations(), reverse=True)
    assert duration_header.get_attribute("aria-sort") == "descending"

    plain = open_report(mixed.report_html, scripts=False, shot="no-scripts").page
    rows = plain.eval_on_selector_all(
        "#job-table tbody tr",
        "els => els.map(e => [...e.cells].slice(0, 4).map(c => c.textContent))",
    )
    assert len(rows) == len(mixed.attempts) == 8
    assert ["REPORT", "2", "amt1", "failed"] in rows and ["MAIL", "0", "amt1", "not run"] in rows
    assert plain.locator(".bar").count() == 0
    assert "The timeline needs scripts" in plain.locator("#timeline").inner_text()
    link = plain.locator("#job-table tbody tr", has_text="REPORT").first.locator("a")
    assert link.get_attribute("href").startswith("logs/NIGHTLY/")


def test_a_run_in_progress_then_interrupted(tmp_path: Path, start_simulator, open_report) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator({"jobs": {"LONG": {"duration": 60}}, "default": {"duration": 0.1}})
    jobs = [
        {"name": "QUICK", "task": "batch_job", "job_name": "QUICK"},
        {"name": "LONG", "task": "batch_job", "job_name": "LONG", "depends_on": ["QUICK"]},
        {"name": "AFTER", "task": "batch_job", "job_name": "AFTER", "depends_on": ["LONG"]},
    ]
    schedule = two_agent_definitions(tmp_path, live.url, jobs)
    process = subprocess.Popen(
        [sys.executable, "-m", "amtflow", "run", str(schedule), "--date", DATE, "--plain",
         "--html", str(tmp_path / "final.html"), "--log-dir", str(tmp_path / "logs"),
         "--state-dir", str(tmp_path / "state")],
        cwd=tmp_path, env={**os.environ, "AMT_TEST_PASSWORD": PASSWORD},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        run_id = wait_for_batch_request_id(tmp_path / "state", "LONG")
        now = amtflow(
            "report",
            run_id,
            "--html",
            tmp_path / "now.html",
            "--state-dir",
            tmp_path / "state",
            cwd=tmp_path,
        )
        assert now.returncode == 0, now.stderr
        page = open_report(tmp_path / "now.html").page
        long_bar = page.locator('.bar[aria-label="LONG, attempt 1, running"]')
        assert long_bar.get_attribute("class") == "bar s-running crit open"
        assert page.locator("#facts").get_attribute("data-state") == "running"
        long_bar.hover()
        assert "still running" in page.locator("#tip").inner_text()
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert "wrote " in stdout
    page = open_report(tmp_path / "final.html", shot="interrupted").page
    assert page.locator(".bar").count() == 2
    assert page.locator('.bar[aria-label="LONG, attempt 1, killed"]').count() == 1
    assert page.locator('.mark[aria-label="AFTER, not run"]').count() == 1
    assert page.locator("#facts").get_attribute("data-state") == "interrupted"


def test_names_and_reasons_from_a_hostile_journal_stay_text(tmp_path: Path, open_report) -> None:  # type: ignore[no-untyped-def]
    name = '<script>window.pwned = 3</script><img src=x onerror="window.pwned = 4">'
    log = tmp_path / "hostile.log"
    log.write_text("</pre></script><script>window.pwned = 5</script>\n", encoding="utf-8")
    with Journal.open(tmp_path / "state") as journal:
        run = journal.begin_run(
            "<b>SCHED</b>",
            dt.date(2026, 11, 24),
            definitions=str(tmp_path / "gone.yaml"),
            digest="",
        )
        journal.new_attempt(run.run_id, name, 1, "task-1")
        journal.set_batch_request_id(run.run_id, name, 1, 7, str(log))
        journal.finish_attempt(
            run.run_id, name, 1, JobState.FAILED, completion_code=11, reason="<i>why</i> & more"
        )
        journal.mark_not_run(run.run_id, "</td></tr><tr><td>X", "depends on <u>it</u>")
        journal.finish_run(run.run_id, run.state.FAILED)
    result = amtflow(
        "report",
        run.run_id,
        "--html",
        tmp_path / "r.html",
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    opened = open_report(tmp_path / "r.html")
    page = opened.page
    assert page.locator("h1").inner_text().startswith("<b>SCHED</b>")
    assert page.locator("#job-table tbody tr").count() == 2
    # rows are in start order, ties by name: both jobs may share a millisecond here
    first_cells = page.locator("#job-table tbody tr td:first-child").all_text_contents()
    assert sorted(first_cells) == sorted([name, "</td></tr><tr><td>X"])
    assert page.locator("#job-table", has_text="<i>why</i> & more").count() == 1
    assert "agents and dependencies unknown" in page.locator(".note").inner_text()
    page.hover(".bar")
    assert name in page.locator("#tip").inner_text()
    page.click(".bar")
    assert page.locator("#log-text").text_content() == log.read_text()
    assert page.locator("script").count() == 2  # the data island and the page's own script
    assert page.locator("img, b, i, u").count() == 0
    assert page.evaluate("window.pwned") is None
    assert opened.requests == [(tmp_path / "r.html").resolve().as_uri()]
    assert opened.console == []


def test_history_of_a_schedule(tmp_path: Path, start_simulator, open_report) -> None:  # type: ignore[no-untyped-def]
    jobs = [
        {"name": "STEADY", "task": "batch_job", "job_name": "STEADY"},
        {"name": "GROWING", "task": "batch_job", "job_name": "GROWING", "depends_on": ["STEADY"]},
    ]
    for day, growing in zip((21, 22, 23, 24), (0.1, 0.1, 0.1, 1.6)):
        live = start_simulator(
            {"jobs": {"GROWING": {"duration": growing}}, "default": {"duration": 0.1}}
        )
        schedule = two_agent_definitions(tmp_path, live.url, jobs)
        result = amtflow(
            "run",
            schedule,
            "--date",
            f"2026-11-{day}",
            "--plain",
            "--log-dir",
            tmp_path / "logs",
            "--state-dir",
            tmp_path / "state",
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
    result = amtflow(
        "report",
        "--schedule",
        "NIGHTLY",
        "--last",
        "4",
        "--html",
        tmp_path / "history.html",
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "(4 runs of NIGHTLY)" in result.stdout
    opened = open_report(tmp_path / "history.html")
    page = opened.page
    dates = page.eval_on_selector_all(
        "#run-table tbody tr td:first-child", "els => els.map(e => e.textContent)"
    )
    assert dates == ["2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"]
    rows = page.eval_on_selector_all(
        "#history-table tbody tr",
        "els => els.map(e => [e.cells[0].textContent, e.querySelector('polyline').getAttribute('points').split(' ').length, e.cells[5].textContent])",
    )
    assert rows == [["GROWING", 4, "slower"], ["STEADY", 4, ""]]
    label = page.locator("#history-table svg").first.get_attribute("aria-label")
    assert label.startswith("2026-11-21: ") and label.count(";") == 3
    assert opened.requests == [(tmp_path / "history.html").resolve().as_uri()]
    assert opened.console == []

    two = amtflow(
        "report",
        "--schedule",
        "NIGHTLY",
        "--last",
        "2",
        "--html",
        tmp_path / "two.html",
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
    )
    assert two.returncode == 0
    page = open_report(tmp_path / "two.html").page
    assert page.locator("#run-table tbody tr").count() == 2


def test_a_big_table_shows_a_page_of_rows_and_sorts_them_all(tmp_path: Path, open_report) -> None:  # type: ignore[no-untyped-def]
    run_id = synthetic_run(tmp_path / "state", tmp_path / "logs", 600)
    result = amtflow(
        "report",
        run_id,
        "--html",
        tmp_path / "big.html",
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    opened = open_report(tmp_path / "big.html")
    page = opened.page
    assert page.locator(".bar").count() == 600
    assert page.locator("#chart.compact").count() == 1  # many rows: thin bars
    rows = page.locator("#job-table tbody tr")
    assert rows.count() == 500
    assert "Showing 500 of 600 rows" in page.locator(".rows-note").inner_text()
    header = page.locator("#job-table th", has_text="Duration")
    header.locator("button").click()
    header.locator("button").click()  # descending: the longest first, from all 600
    shown = page.eval_on_selector_all(
        "#job-table tbody td:nth-child(9)", "els => els.map(e => parseFloat(e.dataset.v))"
    )
    every = sorted((3.0 + i % 9 for i in range(600)), reverse=True)  # job i lasts 3 + i % 9 s
    assert shown == every[:500]
    page.get_by_role("button", name="Show all 600 rows").click()
    assert rows.count() == 600
    assert opened.console == []


def test_late_jobs_and_waits_for_a_start_time_are_shown(tmp_path: Path, open_report) -> None:  # type: ignore[no-untyped-def]
    with Journal.open(tmp_path / "state") as journal:
        run = journal.begin_run("TIMED", dt.date(2026, 11, 24), definitions="", digest="")
        journal.flag_job(run.run_id, "WAITER", "waiting", "2026-11-24T06:00:00+00:00")
        time.sleep(0.3)
        journal.new_attempt(run.run_id, "WAITER", 1, "task-1")
        journal.finish_attempt(run.run_id, "WAITER", 1, JobState.OK, completion_code=4)
        journal.new_attempt(run.run_id, "SLOW", 1, "task-2")
        journal.flag_job(run.run_id, "SLOW", "late", "past its deadline 06:00")
        journal.finish_attempt(run.run_id, "SLOW", 1, JobState.OK, completion_code=4)
        journal.finish_run(run.run_id, run.state.OK)
    result = amtflow(
        "report",
        run.run_id,
        "--html",
        tmp_path / "t.html",
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    opened = open_report(tmp_path / "t.html")
    page = opened.page
    assert page.locator('.bar.late[aria-label="SLOW, attempt 1, ok, late"]').count() == 1
    assert page.locator(".wait").count() == 1
    assert "late: past its deadline (1)" in page.locator("#legend").inner_text()
    assert "waiting for its start time" in page.locator("#legend").inner_text()
    page.hover('.bar[aria-label="WAITER, attempt 1, ok"]')
    assert "for its start time from" in page.locator("#tip").inner_text()
    assert (
        page.locator("#job-table tbody tr", has_text="SLOW").locator("td").nth(3).inner_text()
        == "ok, late"
    )
    assert opened.console == []
