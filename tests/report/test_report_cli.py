"""``amtflow report`` and ``amtflow run --html`` from the command line: what is written, what
goes wrong, and that a page stays bounded and free of secrets."""

from __future__ import annotations

import json
import re
import sqlite3
import stat
from pathlib import Path

from amtflow.report.html.logs import LOG_BUDGET
from amtflow.state import Journal
from tests.report.conftest import synthetic_run, two_agent_definitions
from tests.run.conftest import PASSWORD, amtflow

DATE = "2026-11-24"
JOBS = [
    {"name": "FIRST", "task": "batch_job", "job_name": "FIRST"},
    {"name": "SECOND", "task": "batch_job", "job_name": "SECOND", "depends_on": ["FIRST"]},
]


def run_once(tmp_path: Path, url: str, *extra: str | Path):  # type: ignore[no-untyped-def]
    schedule = two_agent_definitions(tmp_path, url, JOBS)
    return amtflow(
        "run", schedule, "--date", DATE, "--plain", "--log-dir", tmp_path / "logs",
        "--state-dir", tmp_path / "state", *extra, cwd=tmp_path,
    )  # fmt: skip


def test_run_html_is_private_complete_and_holds_no_secret(tmp_path: Path, start_simulator) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator({"default": {"duration": 0.05}}, users={"OPCONAPI": PASSWORD})
    result = run_once(tmp_path, live.url, "--html", tmp_path / "out" / "run.html")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out" / "run.html").read_text(encoding="utf-8")
    assert stat.S_IMODE((tmp_path / "out" / "run.html").stat().st_mode) == 0o600
    assert PASSWORD not in page
    assert "FIRST → SECOND" in page  # the critical path, from the plan's dependencies
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing from anywhere else
    assert page.count("<tr class=") == 2

    again = run_once(tmp_path, live.url, "--html", tmp_path / "again.html")  # the date ran
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again.html").read_text(encoding="utf-8").count("<tr class=") == 2


def test_a_report_that_cannot_be_written_is_a_warning_not_a_failed_run(
    tmp_path: Path, start_simulator
) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator({"default": {"duration": 0.05}})
    (tmp_path / "blocker").write_text("a file, not a folder")
    result = run_once(
        tmp_path,
        live.url,
        "--html",
        tmp_path / "blocker" / "run.html",
        "--json",
        tmp_path / "s.json",
    )
    assert result.returncode == 0, result.stderr
    assert "warning: report" in result.stderr and "cannot write it" in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads((tmp_path / "s.json").read_text())["state"] == "ok"


def test_report_command_mistakes_are_one_clear_line(tmp_path: Path, start_simulator) -> None:  # type: ignore[no-untyped-def]
    state = ("--state-dir", tmp_path / "state")
    cases = [
        (("report", "--html", tmp_path / "r.html", *state), "give a RUN, or --schedule NAME"),
        (("report", "X", "--schedule", "S", "--html", tmp_path / "r.html", *state), "not both"),
        (("report", "NOPE", "--html", tmp_path / "r.html", *state), "unknown run 'NOPE'"),
        (
            ("report", "--schedule", "NIGHTLY", "--html", tmp_path / "r.html", *state),
            "no runs of schedule NIGHTLY",
        ),
        (("report", "NOPE"), "Missing option '--html'"),
    ]
    for args, message in cases:
        result = amtflow(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "r.html").exists()

    live = start_simulator({"default": {"duration": 0.05}})
    assert run_once(tmp_path, live.url).returncode == 0
    (tmp_path / "blocker").write_text("")
    blocked = amtflow(
        "report",
        "--schedule",
        "NIGHTLY",
        "--html",
        tmp_path / "blocker" / "h.html",
        *state,
        cwd=tmp_path,
    )
    assert blocked.returncode == 2 and "cannot write it" in blocked.stderr
    other = amtflow(
        "report", "--schedule", "OTHER", "--html", tmp_path / "h.html", *state, cwd=tmp_path
    )
    assert other.returncode == 2 and "no runs of schedule OTHER" in other.stderr


def test_report_of_a_past_run_reads_its_plan_from_the_journal(
    tmp_path: Path, start_simulator
) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator({"default": {"duration": 0.05}})
    assert run_once(tmp_path, live.url).returncode == 0
    with Journal.open(tmp_path / "state") as journal:
        run_id = journal.runs(1)[0].run_id
    (tmp_path / "nightly.yaml").unlink()  # the definitions are gone: the journal has the plan
    result = amtflow(
        "report",
        run_id,
        "--html",
        tmp_path / "r.html",
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "r.html").read_text()
    assert "FIRST → SECOND" in page and "(agent unknown)" not in page
    assert 'class="note"' not in page

    with sqlite3.connect(tmp_path / "state" / "journal.db") as conn:  # as a run of before plans
        conn.execute("UPDATE runs SET plan = ''")
    result = amtflow(
        "report",
        run_id,
        "--html",
        tmp_path / "r.html",
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "r.html").read_text()
    assert "agents and dependencies unknown" in page and "(agent unknown)" in page


def test_a_page_of_thousands_of_jobs_with_big_logs_stays_bounded(tmp_path: Path) -> None:
    jobs = 3000
    run_id = synthetic_run(tmp_path / "state", tmp_path / "logs", jobs, log_size=20_000)
    result = amtflow(
        "report",
        run_id,
        "--html",
        tmp_path / "r.html",
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="amtflow-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert len(data["bars"]) == jobs and len(data["logs"]) == jobs
    embedded = [log for log in data["logs"] if log[0] is not None]
    assert sum(len(log[0].encode()) for log in embedded) <= LOG_BUDGET
    assert all(log[0] is None or "the end" in log[0] for log in data["logs"])
    failed_logs = {f"JOB{i:05d}.log" for i in range(0, jobs, 7)}
    assert all(log[1].split("/")[-1] in failed_logs for log in embedded[: len(failed_logs)])
    per_job = (len(page.encode()) - LOG_BUDGET) / jobs
    assert per_job < 1200, per_job  # bytes of data and table per attempt, logs aside
