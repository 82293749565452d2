"""A run keeps its jobs' time windows: start times waited for, latest starts and deadlines."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from xml.etree import ElementTree as ET

from tests.run.conftest import amtflow, write_definitions
from tests.timing.conftest import UTC, PastLatestStart, clock


def _run(tmp_path: Path, url: str, jobs: list[dict[str, object]], date: dt.date, *extra: str):  # type: ignore[no-untyped-def]
    return amtflow(
        "run",
        write_definitions(tmp_path, url, jobs),
        "--date",
        date.isoformat(),
        "--log-dir",
        tmp_path / "logs",
        "--state-dir",
        tmp_path / "state",
        "--json",
        tmp_path / "run.json",
        "--junit",
        tmp_path / "junit.xml",
        "--plain",
        *extra,
        cwd=tmp_path,
    )


def _next_whole_second(ahead: float) -> dt.datetime:
    """An instant ``ahead`` seconds or a little more from now, on a whole second (as HH:MM:SS).

    Never on second 0: amtflow shows a time on a whole minute as HH:MM, not as ``clock`` does.
    """
    when = (dt.datetime.now(UTC) + dt.timedelta(seconds=ahead + 1)).replace(microsecond=0)
    return when + dt.timedelta(seconds=1) if when.second == 0 else when


def test_a_job_is_not_started_before_its_start_time(tmp_path: Path, start_simulator) -> None:  # type: ignore[no-untyped-def]
    # The start time must still be ahead when the run begins: a CLI slow to start on a loaded
    # machine (parallel workers) gets a wider margin and a fresh try, never a weaker check.
    for ahead in (6, 20, 60):
        folder = tmp_path / f"ahead-{ahead}"
        folder.mkdir()
        live = start_simulator({"default": {"duration": 0.05}})
        start_at = _next_whole_second(ahead)
        jobs = [
            {"name": "EARLY", "task": "batch_job", "job_name": "EARLY"},
            {
                "name": "TIMED",
                "task": "batch_job",
                "job_name": "TIMED",
                "start_time": clock(start_at),
            },
        ]
        # the simulator runs in this process: its monotonic clock maps onto the wall clock here
        wall, mono = time.time(), time.monotonic()
        result = _run(folder, live.url, jobs, start_at.date())
        assert result.returncode == 0, result.stdout + result.stderr
        starts = {r.body["jobName"]: wall + (r.time - mono) for r in live.simulator.record.starts()}
        if starts["EARLY"] < start_at.timestamp():  # the run began before the start time
            break
    else:
        raise AssertionError("no run began before its start time, even 60 s ahead")
    assert f"TIMED waiting - waiting until {clock(start_at)}" in result.stdout
    assert starts["TIMED"] >= start_at.timestamp() - 0.05  # the clocks' mapping, not the engine
    jobs_json = {job["name"]: job for job in json.loads((folder / "run.json").read_text())["jobs"]}
    assert jobs_json["TIMED"]["state"] == "ok" and not jobs_json["TIMED"]["late"]


def test_a_job_past_its_latest_start_is_not_run_and_the_run_fails(
    tmp_path: Path, start_simulator
) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator({"default": {"duration": 0.05}})
    past = PastLatestStart.now()  # the run date 2 h ago: its latest start 1 h later is past
    result = _run(tmp_path, live.url, past.jobs, past.date)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"missed its latest start {clock(past.passed)}" in result.stdout
    assert "LATESTART" not in live.simulator.record.starts_by_job()
    assert live.simulator.record.starts_by_job() == {"OTHER": 1}
    jobs_json = {
        job["name"]: job for job in json.loads((tmp_path / "run.json").read_text())["jobs"]
    }
    assert jobs_json["LATESTART"]["state"] == "not_run"
    assert jobs_json["LATESTART"]["missed_latest_start"] is True
    assert jobs_json["AFTER"]["reason"] == "depends on LATESTART, which was not run"
    assert jobs_json["AFTER"]["missed_latest_start"] is False
    case = ET.parse(tmp_path / "junit.xml").getroot().find("testcase[@name='LATESTART']")
    failure = case.find("failure") if case is not None else None  # not run: a failure
    assert failure is not None and "missed its latest start" in (failure.get("message") or "")
    status = amtflow("status", "--state-dir", tmp_path / "state", "--format", "json", cwd=tmp_path)
    run_id = json.loads(status.stdout)["runs"][0]["run_id"]
    detail = amtflow(
        "status", run_id, "--state-dir", tmp_path / "state", "--format", "json", cwd=tmp_path
    )
    by_job = {job["job"]: job for job in json.loads(detail.stdout)["jobs"]}
    assert by_job["LATESTART"]["missed_latest_start"] is True


def test_a_job_past_its_deadline_is_late_and_still_ok(tmp_path: Path, start_simulator) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator({"jobs": {"SLOW": {"duration": 3.0}}, "default": {"duration": 0.05}})
    deadline = _next_whole_second(1)
    jobs = [
        {"name": "SLOW", "task": "batch_job", "job_name": "SLOW", "deadline": clock(deadline)},
        {"name": "QUICK", "task": "batch_job", "job_name": "QUICK", "deadline": "23:59:59"},
    ]
    # QUICK (due 23:59:59) must end before its deadline: near midnight a slow run could not
    if (deadline + dt.timedelta(minutes=5)).date() != dt.datetime.now(UTC).date():
        jobs.pop()
    result = _run(tmp_path, live.url, jobs, deadline.date())
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SLOW late - not ended by its deadline {clock(deadline)}" in result.stdout
    assert "ok late" in result.stdout  # the summary
    jobs_json = {
        job["name"]: job for job in json.loads((tmp_path / "run.json").read_text())["jobs"]
    }
    assert jobs_json["SLOW"]["state"] == "ok" and jobs_json["SLOW"]["late"] is True
    if "QUICK" in jobs_json:
        assert jobs_json["QUICK"]["late"] is False
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    slow = suite.find("testcase[@name='SLOW']")
    assert slow is not None and slow.find("failure") is None
    assert slow.find("properties/property[@name='late']") is not None
    status = amtflow("status", "--state-dir", tmp_path / "state", "--format", "json", cwd=tmp_path)
    run_id = json.loads(status.stdout)["runs"][0]["run_id"]
    detail = amtflow("status", run_id, "--state-dir", tmp_path / "state", cwd=tmp_path)
    assert "ok late" in detail.stdout
    detail_json = amtflow(
        "status", run_id, "--state-dir", tmp_path / "state", "--format", "json", cwd=tmp_path
    )
    by_job = {job["job"]: job for job in json.loads(detail_json.stdout)["jobs"]}
    assert by_job["SLOW"]["late"] is True
