"""``amtflow run`` end to end: the real CLI in a subprocess against the real simulator."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from xml.etree import ElementTree as ET

from tests.run.conftest import PASSWORD, amtflow, background_run, write_definitions
from tests.waits import UNTIL_TOLD_S, wait_for_batch_request_id

DATE = "2026-11-24"

MIXED_SCENARIO = {
    "jobs": {
        "EXTRACT": {"duration": 0.3, "messages": ["extract started", "extract done"]},
        "REPORT": {"duration": 0.2, "end_code": 11, "messages": ["report failed: no data"]},
        "RECOVER": {"duration": 0.1},
        "KILLEDJOB": {"duration": 0.2, "end_code": 3},
        "ABORTJOB": {"duration": 0.1, "end_code": 12},
        "F:\\Amt\\Scripts\\GONE.ps1": {"missing": True},
    }
}

MIXED_JOBS = [
    {
        "name": "EXTRACT",
        "task": "batch_job",
        "job_name": "EXTRACT",
        "task_values": ["PERIOD=[[$SCHEDULE DATE]]"],
    },
    {"name": "REPORT", "task": "batch_job", "job_name": "REPORT", "depends_on": ["EXTRACT"]},
    {"name": "MAIL", "task": "batch_job", "job_name": "MAIL", "depends_on": ["REPORT"]},
    {
        "name": "RECOVER",
        "task": "batch_job",
        "job_name": "RECOVER",
        "depends_on": [{"job": "REPORT", "on": "failed"}],
    },
    {"name": "KILLEDJOB", "task": "batch_job", "job_name": "KILLEDJOB"},
    {"name": "ABORTJOB", "task": "batch_job", "job_name": "ABORTJOB"},
    {"name": "CHAIN2", "task": "batch_job", "job_name": "CHAIN2", "depends_on": ["ABORTJOB"]},
    {"name": "CHAIN3", "task": "batch_job", "job_name": "CHAIN3", "depends_on": ["CHAIN2"]},
    {
        "name": "GONE",
        "task": "script",
        "script_name": "F:\\Amt\\Scripts\\GONE.ps1",
        "script_parameters": {"INPUT": "daily.csv"},
    },
]


def log_files(folder: Path) -> dict[str, str]:
    return {p.name.split(".")[0]: p.read_text() for p in (folder / "logs").rglob("*.log")}


def test_mixed_schedule_end_to_end(tmp_path: Path, start_simulator) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator(MIXED_SCENARIO, users={"OPCONAPI": PASSWORD})
    schedule = write_definitions(tmp_path, live.url, MIXED_JOBS)
    result = amtflow(
        "run",
        schedule,
        "--date",
        DATE,
        "--log-dir",
        tmp_path / "logs",
        "--state-dir",
        tmp_path / "state",
        "--json",
        tmp_path / "summary.json",
        "--junit",
        tmp_path / "junit.xml",
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr

    summary = json.loads((tmp_path / "summary.json").read_text())
    states = {job["name"]: (job["state"], job["completion_code"]) for job in summary["jobs"]}
    assert states == {
        "EXTRACT": ("ok", 4),
        "REPORT": ("failed", 11),
        "MAIL": ("not_run", None),
        "RECOVER": ("ok", 4),
        "KILLEDJOB": ("killed", 3),
        "ABORTJOB": ("failed", 12),
        "CHAIN2": ("not_run", None),
        "CHAIN3": ("not_run", None),
        "GONE": ("failed", 11),
    }
    assert summary["exit_status"] == 1 and summary["state"] == "failed"

    starts = live.simulator.record.starts_by_job()
    assert starts == {
        "EXTRACT": 1,
        "REPORT": 1,
        "RECOVER": 1,
        "KILLEDJOB": 1,
        "ABORTJOB": 1,
        "F:\\Amt\\Scripts\\GONE.ps1": 1,
    }

    logs = log_files(tmp_path)
    assert set(logs) == {"EXTRACT", "REPORT", "RECOVER", "KILLEDJOB", "ABORTJOB", "GONE"}
    assert "Completion Code : DONE" in logs["EXTRACT"]
    assert logs["EXTRACT"].count('"extract started"') == 1
    assert "PERIOD=2026-11-24" in logs["EXTRACT"]
    assert "Completion Code : ERROR" in logs["REPORT"]
    assert '"report failed: no data"' in logs["REPORT"]
    assert "Completion Code : ABORTED" in logs["ABORTJOB"]
    assert "File not found" in logs["GONE"]
    assert "Script Job" in logs["GONE"] and "INPUT=daily.csv" in logs["GONE"]
    for path in (tmp_path / "logs").rglob("*.log"):
        assert path.parent.parent.name == "NIGHTLY" and path.parent.name == DATE

    suite = ET.parse(tmp_path / "junit.xml").getroot()
    # not run jobs are failures (CI tools hide skipped cases); no recovery branch was left unused
    assert suite.get("tests") == "9" and suite.get("failures") == "7"
    assert suite.get("skipped") == "0"
    assert "depends on REPORT" in result.stdout  # the summary gives the reason


def test_all_ok_exits_zero(tmp_path: Path, start_simulator) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator({"default": {"duration": 0.05}})
    jobs = [{"name": f"J{i}", "task": "batch_job", "job_name": f"J{i}"} for i in range(5)]
    result = amtflow(
        "run",
        write_definitions(tmp_path, live.url, jobs),
        "--date",
        DATE,
        "--log-dir",
        tmp_path / "logs",
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "5 ok" in result.stdout


def test_bad_password_fails_preflight_before_any_start(tmp_path: Path, start_simulator) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator(users={"OPCONAPI": "another-password"})
    schedule = write_definitions(tmp_path, live.url, MIXED_JOBS[:1])
    result = amtflow(
        "run", schedule, "--date", DATE, "--state-dir", tmp_path / "state", cwd=tmp_path
    )
    assert result.returncode == 1
    assert "preflight failed" in result.stderr
    assert "Traceback" not in result.stderr and PASSWORD not in result.stderr + result.stdout
    assert live.simulator.record.starts_by_job() == {}


def test_missing_password_variable_is_a_clear_error(tmp_path: Path, start_simulator) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator()
    schedule = write_definitions(tmp_path, live.url, MIXED_JOBS[:1])
    result = amtflow(
        "run",
        schedule,
        "--date",
        DATE,
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
        env={"AMT_TEST_PASSWORD": ""},
    )
    assert result.returncode != 0
    assert "AMT_TEST_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr
    assert live.simulator.record.starts_by_job() == {}


def test_unreachable_server_is_one_clear_line(tmp_path: Path) -> None:
    schedule = write_definitions(tmp_path, "http://127.0.0.1:9", MIXED_JOBS[:1])
    result = amtflow(
        "run", schedule, "--date", DATE, "--state-dir", tmp_path / "state", cwd=tmp_path
    )
    assert result.returncode == 1
    assert "preflight failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_disabled_agent_jobs_are_not_run(tmp_path: Path, start_simulator) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator()
    schedule = write_definitions(tmp_path, live.url, MIXED_JOBS[:1], communication="disabled")
    result = amtflow(
        "run",
        schedule,
        "--date",
        DATE,
        "--state-dir",
        tmp_path / "state",
        "--log-dir",
        tmp_path / "logs",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "communication disabled" in result.stdout
    assert live.simulator.record.starts_by_job() == {}


def test_retry_runs_again_with_a_new_task_id(tmp_path: Path, start_simulator) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator({"jobs": {"FLAKY": {"duration": 0.05, "end_code": 11}}})
    jobs = [
        {
            "name": "FLAKY",
            "task": "batch_job",
            "job_name": "FLAKY",
            "retry": {"attempts": 2, "delay": "1s", "on_codes": [11]},
        }
    ]
    result = amtflow(
        "run",
        write_definitions(tmp_path, live.url, jobs),
        "--date",
        DATE,
        "--log-dir",
        tmp_path / "logs",
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    starts = [r for r in live.simulator.record.requests if r.action == "Start"]
    assert len(starts) == 3
    assert len({r.body["taskId"] for r in starts}) == 3
    assert len(list((tmp_path / "logs").rglob("FLAKY.*.log"))) == 3


def test_max_run_time_kills_the_job(tmp_path: Path, start_simulator) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator({"jobs": {"LONG": {"duration": 60}}})
    jobs = [{"name": "LONG", "task": "batch_job", "job_name": "LONG", "max_run_time": "1s"}]
    schedule = write_definitions(tmp_path, live.url, jobs, allow_kill_job=True)
    result = amtflow(
        "run",
        schedule,
        "--date",
        DATE,
        "--log-dir",
        tmp_path / "logs",
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    kills = [r for r in live.simulator.record.requests if r.action == "Kill"]
    assert len(kills) == 1
    (log,) = (tmp_path / "logs").rglob("LONG.*.log")
    assert "Completion Code : KILLED" in log.read_text()
    assert "max run time" in log.read_text()


def test_sigterm_kills_running_jobs_writes_logs_and_exits_143(
    tmp_path: Path, start_simulator
) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator({"jobs": {"LONG": {"duration": UNTIL_TOLD_S}}})
    jobs = [
        {"name": "LONG", "task": "batch_job", "job_name": "LONG"},
        {"name": "NEXT", "task": "batch_job", "job_name": "NEXT", "depends_on": ["LONG"]},
    ]
    schedule = write_definitions(tmp_path, live.url, jobs, allow_kill_job=True)
    process = background_run(tmp_path, schedule)
    wait_for_batch_request_id(tmp_path / "state", "LONG")  # LONG is running
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert any(r.action == "Kill" for r in live.simulator.record.requests)
    (log,) = (tmp_path / "logs").rglob("LONG.*.log")
    assert "Completion Code : KILLED" in log.read_text()
    assert "NEXT" in stdout and "not run" in stdout


def test_holiday_runs_nothing_and_says_so(tmp_path: Path, start_simulator) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator()
    schedule = write_definitions(tmp_path, live.url, MIXED_JOBS[:1])
    text = schedule.read_text().replace(
        "- name: NIGHTLY\n", "- name: NIGHTLY\n  frequency: {days: [mon, tue]}\n"
    )
    schedule.write_text(text)
    result = amtflow(
        "run", schedule, "--date", "2026-11-28", "--state-dir", tmp_path / "state", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "does not run on sat" in result.stderr
    assert live.simulator.record.starts_by_job() == {}


def test_expired_logs_are_purged_at_the_start_of_a_run(tmp_path: Path, start_simulator) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator({"default": {"duration": 0.05}})
    schedule = write_definitions(tmp_path, live.url, MIXED_JOBS[:1], retain_log_files=5)
    first = amtflow(
        "run",
        schedule,
        "--date",
        DATE,
        "--log-dir",
        tmp_path / "logs",
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    (old,) = (tmp_path / "logs").rglob("*.log")
    ten_days_ago = time.time() - 10 * 86400
    os.utime(old, (ten_days_ago, ten_days_ago))
    second = amtflow(
        "run",
        schedule,
        "--date",
        "2026-11-25",
        "--log-dir",
        tmp_path / "logs",
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
    )
    assert second.returncode == 0, second.stderr
    assert not old.exists()
    assert len(list((tmp_path / "logs").rglob("*.log"))) == 1
