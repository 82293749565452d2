"""A schedule date runs once: ``amtflow run`` repeated, ``--again``, ``--job`` units, ``rerun``,
``abandon``, and the two defects fixed on the way. Real CLI, real simulator on loopback."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from amtflow.simulator import Scenario
from tests.run.conftest import PASSWORD, LiveSimulator, amtflow, write_definitions
from tests.waits import UNTIL_TOLD_S, wait_for_batch_request_id

DATE = "2026-11-24"


def run(folder: Path, schedule: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return amtflow("run", schedule, "--date", DATE, "--plain", *args, cwd=folder)


def runs(folder: Path) -> list[dict[str, Any]]:
    out = amtflow("status", "--format", "json", cwd=folder).stdout
    return list(json.loads(out)["runs"])


def jobs_of(folder: Path, run_id: str) -> dict[str, dict[str, Any]]:
    out = amtflow("status", run_id, "--format", "json", cwd=folder).stdout
    return {job["job"]: job for job in json.loads(out)["jobs"]}


def starts(live: LiveSimulator) -> dict[str, int]:
    return dict(live.simulator.record.starts_by_job())


def stale_run(folder: Path, schedule: Path, live: LiveSimulator, job: str) -> str:
    """A run whose runner was SIGKILLed once ``job`` was started on the server."""
    runner = subprocess.Popen(
        [sys.executable, "-m", "amtflow", "run", str(schedule), "--date", DATE, "--plain"],
        cwd=folder,
        env={**os.environ, "AMT_TEST_PASSWORD": PASSWORD},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not any(r.action == "Start" and r.answer for r in live.simulator.record.requests):
        assert time.monotonic() < deadline and runner.poll() is None
        time.sleep(0.01)
    wait_for_batch_request_id(folder / ".amtflow", job)  # the answer is in the journal
    runner.send_signal(signal.SIGKILL)
    runner.wait(10)
    (only,) = runs(folder)
    assert only["state"] == "running" and only["stale"], only
    assert starts(live) == {job: 1}
    return str(only["run_id"])


FAILING_JOBS = [
    {"name": "A", "task": "batch_job", "job_name": "A"},
    {"name": "B", "task": "batch_job", "job_name": "B", "depends_on": ["A"]},
    {"name": "C", "task": "batch_job", "job_name": "C", "depends_on": ["B"]},
]


def test_a_finished_date_starts_nothing_and_repeats_its_exit_status(
    tmp_path: Path, start_simulator: Callable[..., LiveSimulator]
) -> None:
    live = start_simulator({"default": {"duration": 0.05}, "jobs": {"B": {"end_code": 11}}})
    schedule = write_definitions(tmp_path, live.url, FAILING_JOBS)
    first = run(tmp_path, schedule)
    assert first.returncode == 1, first.stderr
    (only,) = runs(tmp_path)
    for _ in range(2):
        again = run(tmp_path, schedule)
        assert again.returncode == 1, again.stderr
        assert again.stdout.strip() == (
            f"NIGHTLY {DATE} already ran: run {only['run_id']} ended failed (1 failed, 1 not "
            f"run); amtflow rerun {only['run_id']} to rerun failed jobs, --again for a new run"
        )
    schedule.write_text("schedules: [broken\n")  # a bad pull: the date still ran
    broken = run(tmp_path, schedule)
    assert broken.returncode == 1 and "already ran" in broken.stdout, broken.stderr
    schedule.unlink()  # the journal's truth does not need the file
    summary = tmp_path / "summary.json"
    gone = run(tmp_path, schedule, "--json", str(summary))
    assert gone.returncode == 1 and "already ran" in gone.stdout, gone.stderr
    written = json.loads(summary.read_text())  # the result of the run that ran the date
    assert (written["run_id"], written["state"], written["began"]) == (
        only["run_id"],
        "failed",
        "already_ran",
    )
    assert {j["name"]: j["state"] for j in written["jobs"]} == {
        "A": "ok",
        "B": "failed",
        "C": "not_run",
    }
    assert starts(live) == {"A": 1, "B": 1}
    assert len(runs(tmp_path)) == 1
    missing = run(tmp_path, tmp_path / "other.yaml")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert str(tmp_path / "other.yaml") in missing.stderr


def test_again_starts_a_new_run_of_a_finished_date(
    tmp_path: Path, start_simulator: Callable[..., LiveSimulator]
) -> None:
    live = start_simulator({"default": {"duration": 0.05}})
    schedule = write_definitions(tmp_path, live.url, FAILING_JOBS)
    assert run(tmp_path, schedule).returncode == 0
    assert run(tmp_path, schedule).returncode == 0
    assert starts(live) == {"A": 1, "B": 1, "C": 1}
    again = run(tmp_path, schedule, "--again")
    assert again.returncode == 0, again.stderr
    assert starts(live) == {"A": 2, "B": 2, "C": 2}
    newest, older = runs(tmp_path)
    assert newest["run_id"] in again.stdout and newest["run_id"] != older["run_id"]


def test_a_job_selection_is_its_own_unit_of_work(
    tmp_path: Path, start_simulator: Callable[..., LiveSimulator]
) -> None:
    live = start_simulator({"default": {"duration": 0.05}})
    schedule = write_definitions(tmp_path, live.url, FAILING_JOBS)
    assert run(tmp_path, schedule, "--job", "A").returncode == 0
    full = run(tmp_path, schedule)
    assert full.returncode == 0 and "already ran" not in full.stdout
    assert starts(live) == {"A": 2, "B": 1, "C": 1}
    subset = run(tmp_path, schedule, "--job", "A", "--job", "A")
    assert subset.returncode == 0 and f"NIGHTLY {DATE} (jobs A) already ran" in subset.stdout
    assert starts(live) == {"A": 2, "B": 1, "C": 1}


RERUN_JOBS = [
    {"name": "A", "task": "batch_job", "job_name": "A"},
    {"name": "S", "task": "script", "script_name": "S.ps1", "depends_on": ["A"]},
    {"name": "D", "task": "batch_job", "job_name": "D", "depends_on": ["S"]},
    {"name": "X", "task": "batch_job", "job_name": "X", "depends_on": ["A"]},
    {"name": "Y", "task": "batch_job", "job_name": "Y", "depends_on": ["X"]},
]


def test_rerun_starts_the_fixed_job_and_what_waited_for_it_and_nothing_else(
    tmp_path: Path, start_simulator: Callable[..., LiveSimulator]
) -> None:
    failing = {"S.ps1": {"end_code": 11}, "X": {"end_code": 11}}
    live = start_simulator({"default": {"duration": 0.05}, "jobs": failing})
    schedule = write_definitions(tmp_path, live.url, RERUN_JOBS)
    assert run(tmp_path, schedule).returncode == 1
    (first,) = runs(tmp_path)
    run_id = first["run_id"]
    # the operator fixes the script; X is still broken
    live.simulator.scenario = Scenario.from_mapping(
        {"default": {"duration": 0.05}, "jobs": {"X": {"end_code": 11}}}
    )
    summary = tmp_path / "rerun.json"
    rerun = amtflow("rerun", run_id, "S", "--plain", "--json", summary, cwd=tmp_path)
    assert rerun.returncode == 1, rerun.stderr  # X still failed, Y still not run
    assert starts(live) == {"A": 1, "S.ps1": 2, "D": 1, "X": 1}
    jobs = jobs_of(tmp_path, run_id)
    assert {name: (job["state"], job["attempt"]) for name, job in jobs.items()} == {
        "A": ("ok", 1),
        "S": ("ok", 2),
        "D": ("ok", 1),
        "X": ("failed", 1),
        "Y": ("not_run", 0),
    }
    written = json.loads(summary.read_text())
    assert (written["run_id"], written["state"], written["exit_status"]) == (run_id, "failed", 1)
    assert written["began"] == "rerun" and len(written["jobs"]) == 5
    assert len(runs(tmp_path)) == 1  # inside the same run
    logs = sorted(p.name for p in (tmp_path / ".amtflow" / "logs").rglob("S.*.log"))
    assert len(logs) == 2  # a new log file for the new attempt

    for job, why in [
        ("A", "job A of run .* ended OK: it is never started again"),
        ("NOPE", "has no job 'NOPE'"),
        ("Y", "job Y of run .* did not fail \\(not run\\)"),
    ]:
        refused = amtflow("rerun", run_id, job, cwd=tmp_path)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
        assert re.search(why, refused.stderr), refused.stderr
    assert starts(live) == {"A": 1, "S.ps1": 2, "D": 1, "X": 1}

    live.simulator.scenario = Scenario.from_mapping({"default": {"duration": 0.05}})
    everything = amtflow("rerun", run_id, "--plain", cwd=tmp_path)  # every failed job
    assert everything.returncode == 0, everything.stderr
    assert starts(live) == {"A": 1, "S.ps1": 2, "D": 1, "X": 2, "Y": 1}
    repeated = run(tmp_path, schedule)
    assert repeated.returncode == 0 and f"run {run_id} ended ok" in repeated.stdout
    nothing = amtflow("rerun", run_id, cwd=tmp_path)
    assert nothing.returncode == 2 and "no failed or killed job" in nothing.stderr


def test_abandon_kills_where_allowed_then_run_starts_a_new_run(
    tmp_path: Path, start_simulator: Callable[..., LiveSimulator]
) -> None:
    live = start_simulator({"jobs": {"LONG": {"duration": UNTIL_TOLD_S}}})
    jobs = [{"name": "LONG", "task": "batch_job", "job_name": "LONG"}]
    schedule = write_definitions(tmp_path, live.url, jobs, allow_kill_job=True)
    run_id = stale_run(tmp_path, schedule, live, "LONG")
    refused = run(tmp_path, schedule, "--again")
    assert refused.returncode == 2 and "--again refused" in refused.stderr, refused.stderr
    in_progress = amtflow("rerun", run_id, cwd=tmp_path)
    assert in_progress.returncode == 2 and "has not finished" in in_progress.stderr
    schedule.write_text(schedule.read_text().replace(live.url, "http://127.0.0.1:9"))
    abandoned = amtflow("abandon", run_id, cwd=tmp_path)  # the journal knows the server
    assert abandoned.returncode == 0, abandoned.stderr
    assert "LONG (R:4280): killed" in abandoned.stdout
    kills = [r for r in live.simulator.record.requests if r.action == "Kill"]
    assert [k.body["batchRequestId"] for k in kills] == [4280]
    assert runs(tmp_path)[0]["state"] == "abandoned"
    assert jobs_of(tmp_path, run_id)["LONG"]["state"] == "killed"
    again = amtflow("abandon", run_id, cwd=tmp_path)
    assert again.returncode == 2 and "already ended (abandoned)" in again.stderr

    schedule.write_text(schedule.read_text().replace("http://127.0.0.1:9", live.url))
    live.simulator.scenario = Scenario.from_mapping({"default": {"duration": 0.05}})
    fresh = run(tmp_path, schedule)
    assert fresh.returncode == 0, fresh.stderr
    assert starts(live) == {"LONG": 2} and len(runs(tmp_path)) == 2


def test_abandon_lists_the_jobs_that_go_on_where_kill_is_forbidden(
    tmp_path: Path, start_simulator: Callable[..., LiveSimulator]
) -> None:
    live = start_simulator({"jobs": {"LONG": {"duration": UNTIL_TOLD_S}}})
    jobs = [{"name": "LONG", "task": "batch_job", "job_name": "LONG"}]
    schedule = write_definitions(tmp_path, live.url, jobs, allow_kill_job=False)
    run_id = stale_run(tmp_path, schedule, live, "LONG")
    for slip in (run_id[:1], run_id[:3]):  # the only run, but too short a prefix to act on
        refused = amtflow("abandon", slip, cwd=tmp_path)
        assert refused.returncode == 2, refused.stderr
        assert f"run '{slip}': give at least 4 characters of the run id" in refused.stderr
        assert runs(tmp_path)[0]["state"] == "running"
    abandoned = amtflow("abandon", run_id[:4], cwd=tmp_path)
    assert abandoned.returncode == 0, abandoned.stderr
    assert "LONG (R:4280): goes on: agent amt does not allow kill" in abandoned.stdout
    assert "still running on the servers: LONG" in abandoned.stdout
    assert not [r for r in live.simulator.record.requests if r.action == "Kill"]
    assert runs(tmp_path)[0]["state"] == "abandoned"
    assert jobs_of(tmp_path, run_id)["LONG"]["state"] == "running"  # the truth: it goes on


def test_a_refused_start_has_its_log_in_the_journal(
    tmp_path: Path, start_simulator: Callable[..., LiveSimulator]
) -> None:
    live = start_simulator({"applications": ["NOPE"]})
    schedule = write_definitions(tmp_path, live.url, FAILING_JOBS[:1])
    assert run(tmp_path, schedule).returncode == 1
    (only,) = runs(tmp_path)
    log_path = jobs_of(tmp_path, only["run_id"])["A"]["log_path"]
    assert log_path and Path(log_path).name == "A.unstarted-1.log"
    shown = amtflow("logs", only["run_id"], "A", cwd=tmp_path)
    assert shown.returncode == 0 and "start failed" in shown.stdout, shown.stderr


def test_output_paths_are_checked_before_anything_starts(
    tmp_path: Path, start_simulator: Callable[..., LiveSimulator]
) -> None:
    live = start_simulator({"default": {"duration": 0.05}})
    schedule = write_definitions(tmp_path, live.url, FAILING_JOBS)
    for option in ("--json", "--junit"):
        result = run(tmp_path, schedule, option, str(tmp_path / "no" / "such" / "out.x"))
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().endswith(f"folder {tmp_path / 'no' / 'such'} does not exist")
        assert "internal error" not in result.stderr
    assert starts(live) == {} and runs(tmp_path) == []


def test_a_run_recorded_before_plans_were_kept_is_read_from_its_definitions(
    tmp_path: Path, start_simulator: Callable[..., LiveSimulator]
) -> None:
    live = start_simulator({"default": {"duration": 0.05}, "jobs": {"B": {"end_code": 11}}})
    schedule = write_definitions(tmp_path, live.url, FAILING_JOBS)
    assert run(tmp_path, schedule).returncode == 1
    (only,) = runs(tmp_path)
    old_options = json.dumps({"schedule": None, "jobs": [], "log_dir": str(tmp_path / "logs")})
    with sqlite3.connect(tmp_path / ".amtflow" / "journal.db") as db:  # as amtflow 0.1 wrote it
        db.execute("UPDATE runs SET plan = '', options = ?", (old_options,))
    db.close()
    repeated = run(tmp_path, schedule)
    assert repeated.returncode == 1 and "already ran" in repeated.stdout, repeated.stderr
    live.simulator.scenario = Scenario.from_mapping({"default": {"duration": 0.05}})
    rerun = amtflow("rerun", only["run_id"], "--plain", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert starts(live) == {"A": 1, "B": 2, "C": 1}
