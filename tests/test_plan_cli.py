"""``amtflow plan`` through the CLI on the shipped example definitions."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from amtflow.cli import cli

NIGHTLY = Path(__file__).resolve().parents[1] / "definitions" / "nightly.yaml"


def plan(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["plan", str(NIGHTLY), *args])
    return result.exit_code, result.output


def test_plan_json_gives_waves_resolved_requests_and_what_does_not_run() -> None:
    status, output = plan("--date", "2026-11-24", "--format", "json")
    assert status == 0
    document = json.loads(output)
    assert document["waves"][0] == ["DAYSTART"]
    jobs = {job["name"]: job for job in document["jobs"]}
    assert jobs["DAYSTART"]["task_values"] == ["RUNDATE=2026-11-24"]
    assert jobs["EXTRACTCUST"]["task_values"] == ["PERIOD=2026-11", "SINCE=2026-11-23"]
    assert jobs["INVOICERUN"]["task_values"] == ["RUNDATE=20261124"]
    assert jobs["FILENAMETEST"]["script_parameters"] == [
        "INPUT=F:\\Amt\\Data\\DEMO2\\in\\daily.csv",
        "MODE=full",
    ]
    assert document["not_run"] == [
        {"job": "MONTHEND", "name": "MONTHEND", "reason": "2026-11-24 is not one of its dates"}
    ]
    assert all(job["job"] == job["name"] for job in document["jobs"])  # one word: job


def test_plan_text_names_each_wave_and_the_month_end_job_on_its_date() -> None:
    status, output = plan("--date", "2026-12-31")
    assert status == 0
    assert "10 job(s) in 6 wave(s)" in output
    assert "MONTHEND (batch job MONTHEND on amt-demo)" in output


def test_plan_on_a_holiday_runs_nothing_and_says_why() -> None:
    status, output = plan("--date", "2026-12-25")
    assert status == 0
    assert "nothing runs (schedule NIGHTLY: 2026-12-25 is in calendar 'holidays')" in output


def test_plan_property_override_and_selection() -> None:
    status, output = plan(
        "--date",
        "2026-11-24",
        "--format",
        "json",
        "--job",
        "REPORTTEST02",
        "--property",
        "AMT_APPLICATION=PROD",
    )
    assert status == 0
    document = json.loads(output)
    assert [job["name"] for job in document["jobs"]] == ["REPORTTEST02"]
    assert document["jobs"][0]["application"] == "PROD"
    assert document["jobs"][0]["assumed_met"] == ["EXTRACTCUST (not selected)"]


def _plan_process(path: Path, date: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "amtflow", "plan", str(path), "--date", date],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_date_at_the_end_of_the_calendar_is_one_clear_line(tmp_path: Path) -> None:
    # NIGHTLY starts at 02:00 Amsterdam (UTC the day before) and uses [[$SCHEDULE DATE(-1d)]]
    for date in ("0001-01-01", "9999-12-31"):
        result = _plan_process(NIGHTLY, date)
        assert result.returncode == 2, result.stderr
        assert result.stderr == (
            f"amtflow: error: schedule NIGHTLY for {date}: one of its times or"
            " [[$SCHEDULE DATE(...)]] falls outside the years 1 to 9999\n"
        )
    late = tmp_path / "late.yaml"
    late.write_text(
        NIGHTLY.read_text().replace('start_time: "02:00"', 'start_time: "+99 02:00"'),
        encoding="utf-8",
    )
    shutil.copytree(NIGHTLY.parent / "common", tmp_path / "common")
    result = _plan_process(late, "9999-10-01")
    assert result.returncode == 2 and "falls outside the years 1 to 9999" in result.stderr
