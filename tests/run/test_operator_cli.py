"""An operator's actions from a second terminal on a run in progress: hold, release, skip, mark-ok.

Each test runs ``amtflow run`` in one process against a real simulator, acts on it with the CLI
from another, and checks what the simulator received and what status, JSON and JUnit say.
"""

from __future__ import annotations

import getpass
import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from tests.run.conftest import amtflow, background_run, status_here, status_json, write_definitions
from tests.waits import UNTIL_TOLD_S, MovableClock

USER = getpass.getuser()


def start_run(folder: Path, schedule: Path, *extra: str) -> subprocess.Popen[str]:
    """A run in the background that writes its JSON and JUnit summaries into ``folder``."""
    outputs = ("--json", folder / "run.json", "--junit", folder / "junit.xml")
    return background_run(folder, schedule, *outputs, *extra)


def cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return amtflow(*args, "--state-dir", folder / "state", cwd=folder)


def detail(folder: Path, run_id: str) -> dict[str, Any]:
    return status_json(folder / "state", run_id)


def jobs_of(folder: Path, run_id: str) -> dict[str, dict[str, Any]]:
    return {job["job"]: job for job in detail(folder, run_id)["jobs"]}


def the_run_id(folder: Path) -> str:
    deadline = time.monotonic() + 120  # a deadline, not a wait: slow only when broken
    while time.monotonic() < deadline:
        listed = status_here(folder / "state", "--format", "json")
        runs = json.loads(listed.output).get("runs", []) if listed.exit_code == 0 else []
        if runs:
            return str(runs[0]["run_id"])
        time.sleep(0.1)
    raise AssertionError("the run was not recorded")


def wait_for(
    folder: Path, run_id: str, check: Callable[[dict[str, dict[str, Any]]], bool]
) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        jobs = jobs_of(folder, run_id)
        if check(jobs):
            return jobs
        time.sleep(0.1)
    raise AssertionError(f"not reached; jobs: {jobs_of(folder, run_id)}")


def ended(runner: subprocess.Popen[str]) -> tuple[int, str, str]:
    stdout, stderr = runner.communicate(timeout=90)
    return runner.returncode, stdout, stderr


def outputs(folder: Path) -> tuple[dict[str, dict[str, Any]], dict[str, ET.Element]]:
    document = json.loads((folder / "run.json").read_text())
    cases = {c.get("name", ""): c for c in ET.parse(folder / "junit.xml").getroot()}
    return {job["name"]: job for job in document["jobs"]}, cases


def test_hold_keeps_a_job_from_starting_until_it_is_released(
    tmp_path: Path, start_simulator: Any
) -> None:
    clock = MovableClock()  # FIRST ends once AFTER is held
    live = start_simulator({"jobs": {"FIRST": {"duration": UNTIL_TOLD_S}}}, clock=clock)
    jobs = [
        {"name": "FIRST", "task": "batch_job", "job_name": "FIRST"},
        {"name": "AFTER", "task": "batch_job", "job_name": "AFTER", "depends_on": ["FIRST"]},
    ]
    runner = start_run(tmp_path, write_definitions(tmp_path, live.url, jobs))
    run_id = the_run_id(tmp_path)
    held = cli(tmp_path, "hold", run_id, "AFTER")
    assert held.returncode == 0, held.stderr
    assert f"held AFTER of run {run_id} (by {USER} at" in held.stdout
    clock.end_long_jobs()
    listed = wait_for(tmp_path, run_id, lambda j: j.get("FIRST", {}).get("state") == "ok")
    assert listed["AFTER"]["state"] == "held"
    assert listed["AFTER"]["operator"]["user"] == USER
    time.sleep(1.5)  # three ticks of the runner: it still does not start AFTER
    assert live.simulator.record.starts_by_job() == {"FIRST": 1}
    table = cli(tmp_path, "status", run_id)
    assert f"held by {USER}" in table.stdout
    released_at = time.monotonic()
    released = cli(tmp_path, "release", run_id, "AFTER")
    assert released.returncode == 0, released.stderr
    status, stdout, stderr = ended(runner)
    assert status == 0, stderr
    assert live.simulator.record.starts_by_job() == {"FIRST": 1, "AFTER": 1}
    start = next(r for r in live.simulator.record.starts() if r.body["jobName"] == "AFTER")
    assert start.time > released_at
    assert "held by" in stdout  # the runner's own log says why AFTER waited


def test_a_hold_on_a_started_job_is_refused_and_changes_nothing(
    tmp_path: Path, start_simulator: Any
) -> None:
    live = start_simulator({"jobs": {"FIRST": {"duration": UNTIL_TOLD_S}}})  # 60 s ran out
    jobs = [{"name": "FIRST", "task": "batch_job", "job_name": "FIRST"}]
    schedule = write_definitions(tmp_path, live.url, jobs, allow_kill_job=True)
    runner = start_run(tmp_path, schedule)
    try:
        run_id = the_run_id(tmp_path)
        wait_for(tmp_path, run_id, lambda j: bool(j.get("FIRST", {}).get("batch_request_id")))
        for action in ("hold", "skip"):
            refused = cli(tmp_path, action, run_id, "FIRST")
            assert refused.returncode == 2
            assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
            assert "FIRST" in refused.stderr and "has already started" in refused.stderr
        released = cli(tmp_path, "release", run_id, "FIRST")
        assert released.returncode == 2 and "is not held" in released.stderr
        marked = cli(tmp_path, "mark-ok", run_id, "FIRST")
        assert marked.returncode == 2 and "did not fail (running)" in marked.stderr
        assert detail(tmp_path, run_id)["operator_actions"] == []
    finally:
        runner.send_signal(signal.SIGTERM)
        status, _, stderr = ended(runner)
    assert status == 143, stderr
    assert live.simulator.record.starts_by_job() == {"FIRST": 1}


def test_skip_never_starts_the_job_and_its_dependents_run(
    tmp_path: Path, start_simulator: Any
) -> None:
    clock = MovableClock()  # FIRST ends once SKIPME is skipped
    live = start_simulator({"jobs": {"FIRST": {"duration": UNTIL_TOLD_S}}}, clock=clock)
    jobs = [
        {"name": "FIRST", "task": "batch_job", "job_name": "FIRST"},
        {"name": "SKIPME", "task": "batch_job", "job_name": "SKIPME", "depends_on": ["FIRST"]},
        {"name": "LAST", "task": "batch_job", "job_name": "LAST", "depends_on": ["SKIPME"]},
    ]
    runner = start_run(tmp_path, write_definitions(tmp_path, live.url, jobs))
    run_id = the_run_id(tmp_path)
    skipped = cli(tmp_path, "skip", run_id, "SKIPME")
    assert skipped.returncode == 0, skipped.stderr
    assert "their dependents" not in skipped.stdout and "its dependents" in skipped.stdout
    clock.end_long_jobs()
    status, stdout, stderr = ended(runner)
    assert status == 0, stderr
    assert live.simulator.record.starts_by_job() == {"FIRST": 1, "LAST": 1}
    listed = jobs_of(tmp_path, run_id)
    assert listed["SKIPME"]["state"] == "skipped"
    assert listed["SKIPME"]["operator"]["action"] == "skip"
    assert f"skipped by {USER}" in cli(tmp_path, "status", run_id).stdout
    assert f"skipped by {USER}" in stdout  # the summary
    by_name, cases = outputs(tmp_path)
    assert by_name["SKIPME"]["operator"]["user"] == USER
    skipped_case = cases["SKIPME"].find("skipped")
    assert skipped_case is not None and f"skipped by {USER}" in skipped_case.get("message", "")
    again = cli(tmp_path, "skip", run_id, "LAST")
    assert again.returncode == 2 and "already ended (ok)" in again.stderr


def test_mark_ok_in_a_live_run_starts_what_was_not_run_because_of_the_job(
    tmp_path: Path, start_simulator: Any
) -> None:
    live = start_simulator(
        {"jobs": {"BAD": {"duration": 0.2, "end_code": 11}, "LONG": {"duration": UNTIL_TOLD_S}}}
    )
    jobs = [
        {"name": "LONG", "task": "batch_job", "job_name": "LONG"},
        {"name": "BAD", "task": "batch_job", "job_name": "BAD"},
        {"name": "AFTER", "task": "batch_job", "job_name": "AFTER", "depends_on": ["BAD"]},
        {"name": "LAST", "task": "batch_job", "job_name": "LAST", "depends_on": ["AFTER"]},
    ]
    schedule = write_definitions(tmp_path, live.url, jobs, allow_kill_job=True)
    runner = start_run(tmp_path, schedule)
    try:
        run_id = the_run_id(tmp_path)
        wait_for(tmp_path, run_id, lambda j: j.get("LAST", {}).get("state") == "not_run")
        marked = cli(tmp_path, "mark-ok", run_id, "BAD")
        assert marked.returncode == 0, marked.stderr
        assert f"marked OK BAD of run {run_id} (by {USER}" in marked.stdout
        wait_for(tmp_path, run_id, lambda j: j["LAST"]["state"] == "ok")
        assert live.simulator.record.starts_by_job() == {"LONG": 1, "BAD": 1, "AFTER": 1, "LAST": 1}
        kill = cli(tmp_path, "kill", run_id, "LONG")
        assert kill.returncode == 0, kill.stderr
        status, _, stderr = ended(runner)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert status == 1, stderr  # LONG was killed: not marked OK
    by_name, cases = outputs(tmp_path)
    assert by_name["BAD"]["state"] == "failed" and by_name["BAD"]["operator"]["action"] == "mark_ok"
    assert by_name["AFTER"]["state"] == "ok" and by_name["LAST"]["state"] == "ok"
    assert cases["BAD"].find("failure") is None
    assert cases["LONG"].find("failure") is not None
    marked_long = cli(tmp_path, "mark-ok", run_id, "LONG", "--plain")
    assert marked_long.returncode == 0, marked_long.stderr  # the run is carried on: now OK
    assert detail(tmp_path, run_id)["run"]["state"] == "ok"
    assert live.simulator.record.starts_by_job()["LONG"] == 1


def test_mark_ok_on_a_finished_run_carries_it_on_without_starting_the_job_again(
    tmp_path: Path, start_simulator: Any
) -> None:
    live = start_simulator({"jobs": {"BAD": {"duration": 0.2, "end_code": 11}}})
    jobs = [
        {"name": "BAD", "task": "batch_job", "job_name": "BAD"},
        {"name": "AFTER", "task": "batch_job", "job_name": "AFTER", "depends_on": ["BAD"]},
    ]
    schedule = write_definitions(tmp_path, live.url, jobs)
    status, _, stderr = ended(start_run(tmp_path, schedule))
    assert status == 1, stderr
    run_id = the_run_id(tmp_path)
    assert live.simulator.record.starts_by_job() == {"BAD": 1}
    marked = cli(
        tmp_path,
        "mark-ok",
        run_id,
        "BAD",
        "--plain",
        "--json",
        str(tmp_path / "run.json"),
        "--junit",
        str(tmp_path / "junit.xml"),
    )
    assert marked.returncode == 0, marked.stderr
    assert "the run was carried on" in marked.stdout
    assert marked.stdout.startswith(f"carrying on run {run_id}: ")  # BAD is not started again
    assert "rerunning" not in marked.stdout
    assert live.simulator.record.starts_by_job() == {"BAD": 1, "AFTER": 1}
    by_name, cases = outputs(tmp_path)
    assert by_name["BAD"]["operator"] == {
        "action": "mark_ok",
        "user": USER,
        "at": by_name["BAD"]["operator"]["at"],
    }
    assert by_name["AFTER"]["state"] == "ok"
    assert cases["BAD"].find("failure") is None
    shown = detail(tmp_path, run_id)
    assert shown["run"]["state"] == "ok"
    assert [a["action"] for a in shown["operator_actions"]] == ["mark_ok"]
    assert f"marked OK by {USER}" in cli(tmp_path, "status", run_id).stdout
    page = cli(tmp_path, "report", run_id, "--html", str(tmp_path / "run.html"))
    assert page.returncode == 0, page.stderr
    html = (tmp_path / "run.html").read_text()
    assert "Operator actions" in html and f"<td>{USER}</td><td>marked OK</td><td>BAD</td>" in html
    again = cli(tmp_path, "mark-ok", run_id, "BAD")
    assert again.returncode == 2 and "already marked OK" in again.stderr
    assert live.simulator.record.starts_by_job() == {"BAD": 1, "AFTER": 1}


def test_mark_ok_cuts_a_retry_wait_short_and_status_shows_the_wait(
    tmp_path: Path, start_simulator: Any
) -> None:
    live = start_simulator({"jobs": {"FLAKY": {"duration": 0.2, "end_code": 11}}})
    jobs = [
        {
            "name": "FLAKY",
            "task": "batch_job",
            "job_name": "FLAKY",
            "retry": {"attempts": 2, "delay": "60s"},
        },
        {"name": "AFTER", "task": "batch_job", "job_name": "AFTER", "depends_on": ["FLAKY"]},
    ]
    runner = start_run(tmp_path, write_definitions(tmp_path, live.url, jobs))
    run_id = the_run_id(tmp_path)
    listed = wait_for(tmp_path, run_id, lambda j: j.get("FLAKY", {}).get("state") == "failed")
    assert listed["FLAKY"]["next_attempt"]["attempt"] == 2
    assert listed["FLAKY"]["next_attempt"]["of"] == 3
    assert listed["AFTER"]["state"] == "pending"  # listed though nothing is recorded for it
    # started or not, every entry has the same keys: a script reads any of them the same way
    assert listed["AFTER"].keys() == listed["FLAKY"].keys()
    assert listed["AFTER"]["batch_request_id"] is None and listed["AFTER"]["attempt"] == 0
    table = cli(tmp_path, "status", run_id).stdout
    assert "attempt 2 of 3" in table and "retry in" in table and "waiting" in table
    marked = cli(tmp_path, "mark-ok", run_id, "FLAKY")
    assert marked.returncode == 0, marked.stderr
    status, stdout, stderr = ended(runner)
    assert status == 0, stderr
    assert live.simulator.record.starts_by_job() == {"FLAKY": 1, "AFTER": 1}
    assert "retry in 60s, attempt 2 of 3" in stdout


def test_an_action_on_a_stale_run_is_honoured_by_its_resume(
    tmp_path: Path, start_simulator: Any
) -> None:
    clock = MovableClock()  # FIRST ends once SKIPME is skipped
    live = start_simulator({"jobs": {"FIRST": {"duration": UNTIL_TOLD_S}}}, clock=clock)
    jobs = [
        {"name": "FIRST", "task": "batch_job", "job_name": "FIRST"},
        {"name": "SKIPME", "task": "batch_job", "job_name": "SKIPME", "depends_on": ["FIRST"]},
        {"name": "LAST", "task": "batch_job", "job_name": "LAST", "depends_on": ["SKIPME"]},
    ]
    runner = start_run(tmp_path, write_definitions(tmp_path, live.url, jobs))
    run_id = the_run_id(tmp_path)
    wait_for(tmp_path, run_id, lambda j: bool(j.get("FIRST", {}).get("batch_request_id")))
    runner.send_signal(signal.SIGKILL)
    runner.communicate(timeout=10)
    stale = cli(tmp_path, "status", run_id)
    assert "stale" in stale.stdout and f"amtflow resume {run_id} carries it on" in stale.stdout
    skipped = cli(tmp_path, "skip", run_id, "SKIPME")
    assert skipped.returncode == 0, skipped.stderr
    assert f"runner is gone: amtflow resume {run_id} carries it on" in skipped.stdout
    clock.end_long_jobs()
    resumed = cli(tmp_path, "resume", run_id, "--plain")
    assert resumed.returncode == 0, resumed.stderr
    assert live.simulator.record.starts_by_job() == {"FIRST": 1, "LAST": 1}
    assert jobs_of(tmp_path, run_id)["SKIPME"]["state"] == "skipped"


def test_refusals_are_one_line_and_record_nothing(tmp_path: Path, start_simulator: Any) -> None:
    live = start_simulator({"jobs": {"BAD": {"duration": 0.1, "end_code": 11}}})
    jobs = [
        {"name": "OK1", "task": "batch_job", "job_name": "OK1"},
        {"name": "BAD", "task": "batch_job", "job_name": "BAD"},
    ]
    status, _, stderr = ended(start_run(tmp_path, write_definitions(tmp_path, live.url, jobs)))
    assert status == 1, stderr
    run_id = the_run_id(tmp_path)
    cases = [
        (("hold", "NOSUCHRUN", "OK1"), "unknown run 'NOSUCHRUN'"),
        (("skip", run_id, "NOSUCH"), f"run {run_id} has no job 'NOSUCH'"),
        (("mark-ok", run_id, "OK1"), "did not fail (ok)"),
        (("mark-ok", run_id, "BAD", "NOSUCH"), "has no job 'NOSUCH'"),
        (("hold", run_id, "BAD"), "already ended (failed)"),
        (("release", run_id, "BAD"), "already ended (failed)"),
    ]
    for args, message in cases:
        refused = cli(tmp_path, *args)
        assert refused.returncode != 0, args
        assert message in refused.stderr, (args, refused.stderr)
        assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    missing = amtflow("hold", run_id, cwd=tmp_path)
    assert missing.returncode == 2 and "Missing argument" in missing.stderr
    assert detail(tmp_path, run_id)["operator_actions"] == []
    assert live.simulator.record.starts_by_job() == {"OK1": 1, "BAD": 1}
