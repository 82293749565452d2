"""What an operator sees (issue 18): one vocabulary in every output, local times with their zone,
each job's times in ``--json`` and ``--junit``, and ``--html`` on ``resume`` and ``rerun``.

Everything through the real CLI in subprocesses, against the real simulator on loopback.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import pytest

from amtflow.batch import CODES
from amtflow.runs import JobState, RunState
from tests.run.conftest import PASSWORD, amtflow, write_definitions

DATE = "2026-11-24"
SCENARIO = {
    "jobs": {
        "EXTRACT": {"duration": 0.2, "messages": ["extract done"]},
        "REPORT": {"duration": 0.2, "end_code": 11, "messages": ["report failed: no data"]},
    }
}
JOBS = [
    {"name": "EXTRACT", "task": "batch_job", "job_name": "EXTRACT"},
    {"name": "REPORT", "task": "batch_job", "job_name": "REPORT", "depends_on": ["EXTRACT"]},
    {"name": "MAIL", "task": "batch_job", "job_name": "MAIL", "depends_on": ["REPORT"]},
    {  # EXTRACT ends OK: this recovery branch is not needed (skipped)
        "name": "CLEANUP",
        "task": "batch_job",
        "job_name": "CLEANUP",
        "depends_on": [{"job": "EXTRACT", "on": "failed"}],
    },
]
# Every state value and completion code name that may be written in a human output.
STORED_STATES = [s.value for s in (*JobState, *RunState) if "_" in s.value]
CODE_NAMES = sorted({c.name for c in CODES.values()}, key=len, reverse=True)


def run_mixed(
    folder: Path, live: Any, *extra: str | Path, env: dict[str, str] | None = None
) -> Any:
    schedule = write_definitions(folder, live.url, JOBS)
    return amtflow(
        "run",
        schedule,
        "--date",
        DATE,
        "--plain",
        "--state-dir",
        folder / "state",
        "--log-dir",
        folder / "logs",
        *extra,
        cwd=folder,
        env=env,
    )


def run_id_of(output: str) -> str:
    found = re.search(r"^run (\S+):", output, re.MULTILINE)
    assert found, output
    return found.group(1)


def human_words(text: str) -> None:
    """A human output says ``not run`` (never ``not_run``) and writes each completion code as
    ``NAME (n)``: never ``n NAME``, ``NAME n`` nor ``NAME (NAME (n))``. The server's own
    messages (quoted lines of a job log) are its words, not amtflow's."""
    text = "\n".join(line for line in text.splitlines() if not line.startswith('"'))
    for value in STORED_STATES:
        assert value not in text, (value, text)
    for name in CODE_NAMES:
        for found in re.finditer(rf"(?<![A-Z_]){re.escape(name)}(?![A-Z_])", text):
            assert re.match(r" \(\d+\)", text[found.end() :]), (name, text)
            assert not re.search(r"(?<![\w:])\d+ $", text[: found.start()]), (name, text)


def test_every_output_writes_states_and_codes_the_same_way(
    tmp_path: Path, start_simulator: Any
) -> None:
    live = start_simulator(SCENARIO, users={"OPCONAPI": PASSWORD})
    result = run_mixed(
        tmp_path, live, "--json", tmp_path / "run.json", "--junit", tmp_path / "junit.xml"
    )
    assert result.returncode == 1, result.stderr
    run_id = run_id_of(result.stdout)
    state = ("--state-dir", tmp_path / "state")
    outputs = {
        "run (plain lines and summary)": result.stdout,
        "status": amtflow("status", *state, cwd=tmp_path).stdout,
        "status RUN": amtflow("status", run_id, *state, cwd=tmp_path).stdout,
        "logs RUN": amtflow("logs", run_id, *state, cwd=tmp_path).stdout,
        "run again (already ran)": run_mixed(tmp_path, live).stdout,
    }
    for name, text in outputs.items():
        assert text.strip(), name
        human_words(text)
    assert "REPORT failed R:" in result.stdout and "ERROR (11)" in result.stdout
    assert "ERROR (11)" in outputs["status RUN"] and "DONE (4)" in outputs["status RUN"]
    assert "Completion Code : ERROR (11)" in outputs["logs RUN"]
    assert "not run" in outputs["status RUN"] and "skipped" in outputs["status RUN"]
    assert re.search(r"4 jobs in [\d.]+s: 1 failed, 1 not run, 1 ok, 1 skipped", result.stdout)
    assert "(1 failed, 1 not run, 1 skipped)" in outputs["run again (already ran)"]

    # machines get the stored values, documented in docs/operations.md
    document = json.loads((tmp_path / "run.json").read_text())
    states = {job["name"]: job["state"] for job in document["jobs"]}
    assert states == {"EXTRACT": "ok", "REPORT": "failed", "MAIL": "not_run", "CLEANUP": "skipped"}
    documented = (Path(__file__).parents[2] / "docs" / "operations.md").read_text()
    for value in {*states.values(), document["state"]}:
        assert f"`{value}`" in documented, value


def test_json_has_each_jobs_start_end_duration_and_attempts(
    tmp_path: Path, start_simulator: Any
) -> None:
    live = start_simulator(SCENARIO, users={"OPCONAPI": PASSWORD})
    began = time.monotonic()
    result = run_mixed(tmp_path, live, "--json", tmp_path / "run.json")
    command_took = time.monotonic() - began
    assert result.returncode == 1, result.stderr
    document = json.loads((tmp_path / "run.json").read_text())
    assert document["simulated"] is False
    jobs = {job["name"]: job for job in document["jobs"]}
    for name in ("EXTRACT", "REPORT"):
        job = jobs[name]
        start = dt.datetime.fromisoformat(job["started_at"])
        end = dt.datetime.fromisoformat(job["ended_at"])
        assert start.utcoffset() is not None and end.utcoffset() is not None  # offsets, always
        assert job["duration_seconds"] == pytest.approx((end - start).total_seconds(), abs=0.002)
        # the scenario's 0.2 s at least, and within the command that ran it (not a fixed bound)
        assert 0.15 < job["duration_seconds"] < command_took
        assert job["attempts"] == 1
    assert jobs["REPORT"]["completion_name"] == "ERROR" and jobs["REPORT"]["completion_code"] == 11
    assert dt.datetime.fromisoformat(jobs["REPORT"]["started_at"]) >= dt.datetime.fromisoformat(
        jobs["EXTRACT"]["ended_at"]
    )
    for name in ("MAIL", "CLEANUP"):  # never started: no times, no attempt
        assert jobs[name]["started_at"] is None and jobs[name]["duration_seconds"] is None
        assert jobs[name]["attempts"] == 0


def test_junit_times_each_case_fails_not_run_jobs_and_skips_unneeded_recovery(
    tmp_path: Path, start_simulator: Any
) -> None:
    live = start_simulator(SCENARIO, users={"OPCONAPI": PASSWORD})
    result = run_mixed(tmp_path, live, "--junit", tmp_path / "junit.xml")
    assert result.returncode == 1, result.stderr
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "2", "1")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert float(cases["EXTRACT"].get("time") or 0) > 0.15
    assert float(cases["REPORT"].get("time") or 0) > 0.15
    report = cases["REPORT"].find("failure")
    assert report is not None and (report.get("message") or "").startswith("failed, ERROR (11)")
    mail = cases["MAIL"].find("failure")
    assert mail is not None and mail.get("type") == "not run"
    assert "not run" in (mail.get("message") or "") and "REPORT" in (mail.get("message") or "")
    assert cases["MAIL"].find("skipped") is None
    cleanup = cases["CLEANUP"].find("skipped")
    assert cleanup is not None and cases["CLEANUP"].find("failure") is None
    assert cases["EXTRACT"].find("failure") is None and cases["EXTRACT"].find("skipped") is None


@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "America/New_York", "UTC"])
def test_status_shows_local_times_with_their_zone(
    tmp_path: Path, start_simulator: Any, zone: str
) -> None:
    live = start_simulator(SCENARIO, users={"OPCONAPI": PASSWORD})
    run_id = run_id_of(run_mixed(tmp_path, live).stdout)
    shown = amtflow(
        "status", run_id, "--state-dir", tmp_path / "state", cwd=tmp_path, env={"TZ": zone}
    )
    detail = json.loads(
        amtflow(
            "status", run_id, "--state-dir", tmp_path / "state", "--format", "json", cwd=tmp_path
        ).stdout
    )
    started = dt.datetime.fromisoformat(detail["run"]["started_at"]).astimezone(ZoneInfo(zone))
    assert f"started {started:%Y-%m-%d %H:%M:%S} {started.tzname()}" in shown.stdout
    extract = next(job for job in detail["jobs"] if job["job"] == "EXTRACT")
    job_start = dt.datetime.fromisoformat(extract["started_at"]).astimezone(ZoneInfo(zone))
    assert f"{job_start:%H:%M:%S}" in shown.stdout
    page = tmp_path / "run.html"
    written = amtflow(
        "report",
        run_id,
        "--html",
        page,
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
        env={"TZ": zone},
    )
    assert written.returncode == 0, written.stderr
    html = page.read_text()
    assert f"{started:%Y-%m-%d %H:%M:%S}." in html and f" {started.tzname()}</" in html
    assert f"Start ({started.tzname()})" in html


def test_resume_and_rerun_write_the_html_report(tmp_path: Path, start_simulator: Any) -> None:
    live = start_simulator(SCENARIO, users={"OPCONAPI": PASSWORD})
    run_id = run_id_of(run_mixed(tmp_path, live).stdout)
    state = ("--state-dir", tmp_path / "state")
    rerun = amtflow(
        "rerun", run_id, "REPORT", *state, "--plain", "--html", tmp_path / "re.html", cwd=tmp_path
    )
    assert rerun.returncode == 1, rerun.stderr
    assert f"wrote {tmp_path / 're.html'} (run {run_id})" in rerun.stdout
    page = (tmp_path / "re.html").read_text()
    assert run_id in page and "REPORT" in page
    resume = amtflow("resume", run_id, *state, "--html", tmp_path / "res.html", cwd=tmp_path)
    assert resume.returncode != 0 and "nothing to resume" in resume.stderr  # finished: refused
    assert not (tmp_path / "res.html").exists()
    helped = amtflow("resume", "--help", cwd=tmp_path)
    assert "--html" in helped.stdout


def test_the_live_view_uses_the_same_words() -> None:
    """The live view needs a terminal: it is drawn here as rich draws it on one."""
    from rich.console import Console

    from amtflow.engine.context import JobEvent
    from amtflow.report.runview import LiveView

    view = LiveView(["A", "B", "C", "D"])
    view(JobEvent("A", JobState.OK, attempt=1, batch_request_id=4280, completion_code=4))
    view(JobEvent("B", JobState.FAILED, attempt=2, batch_request_id=4281, completion_code=11))
    view(JobEvent("C", JobState.NOT_RUN, reason="depends on B ending OK; it ended failed"))
    view(JobEvent("D", JobState.KILLED, attempt=1, batch_request_id=4282, completion_code=3))
    console = Console(width=160, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(view.__rich__())
    text = console.export_text()
    human_words(text)
    assert "1 not run" in text and "DONE (4)" in text and "ERROR (11)" in text
    assert "KILLED (3)" in text


def test_a_schedule_with_a_time_zone_is_shown_in_it(tmp_path: Path, start_simulator: Any) -> None:
    """Where the schedule has a ``timezone`` (other than UTC), status and the HTML report show
    its times there, whatever the machine's zone; JSON keeps the offsets as recorded."""
    import yaml

    live = start_simulator(SCENARIO, users={"OPCONAPI": PASSWORD})
    schedule = write_definitions(tmp_path, live.url, JOBS)
    document = yaml.safe_load(schedule.read_text())
    document["schedules"][0]["timezone"] = "America/New_York"
    schedule.write_text(yaml.safe_dump(document, sort_keys=False))
    state = ("--state-dir", tmp_path / "state")
    result = amtflow(
        "run",
        schedule,
        "--date",
        DATE,
        "--plain",
        *state,
        "--log-dir",
        tmp_path / "l",
        cwd=tmp_path,
    )
    run_id = run_id_of(result.stdout)
    amsterdam = {"TZ": "Europe/Amsterdam"}
    shown = amtflow("status", run_id, *state, cwd=tmp_path, env=amsterdam).stdout
    detail = json.loads(amtflow("status", run_id, *state, "--format", "json", cwd=tmp_path).stdout)
    started = dt.datetime.fromisoformat(detail["run"]["started_at"])
    assert started.utcoffset() == dt.timedelta(0)  # recorded in UTC, with its offset
    there = started.astimezone(ZoneInfo("America/New_York"))
    assert f"started {there:%Y-%m-%d %H:%M:%S} {there.tzname()}" in shown
    assert "CET" not in shown and "CEST" not in shown
    page = tmp_path / "r.html"
    report = amtflow("report", run_id, "--html", page, *state, cwd=tmp_path, env=amsterdam)
    assert report.returncode == 0, report.stderr
    assert f"Start ({there.tzname()})" in page.read_text()


def test_run_json_and_status_json_name_a_job_with_the_same_keys(
    tmp_path: Path, start_simulator: Any
) -> None:
    # `--json` named a job `name`, `status --format json` named it `job`: each now has both
    # (`job` the word of every other output; `name` kept for the scripts that read `--json`)
    live = start_simulator(SCENARIO, users={"OPCONAPI": PASSWORD})
    result = run_mixed(tmp_path, live, "--json", tmp_path / "run.json")
    assert result.returncode == 1, result.stderr
    status = amtflow(
        "status", run_id_of(result.stdout), "--state-dir", tmp_path / "state", "--format", "json",
        cwd=tmp_path,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    ran = json.loads((tmp_path / "run.json").read_text())["jobs"]
    shown = json.loads(status.stdout)["jobs"]
    for entries in (ran, shown):
        assert [(job["job"], job["name"]) for job in entries] == [
            (job["job"], job["job"]) for job in entries
        ]
    assert (
        sorted(job["job"] for job in ran)
        == sorted(job["job"] for job in shown)
        == sorted(job["name"] for job in JOBS)
    )
    by_job = {job["job"]: job for job in shown}
    for job in ran:  # what both say of a job, they say under the same key with the same value
        common = (set(job) & set(by_job[job["job"]])) - {"operator"}
        assert common >= {"job", "name", "state", "completion_code", "batch_request_id", "reason"}
        assert {key: job[key] for key in common} == {
            key: by_job[job["job"]][key] for key in common
        }, job["job"]
