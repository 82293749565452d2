"""``run_resumed``: a run whose runner died and is carried on by ``amtflow resume``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from tests.notify.conftest import DATE, Webhook
from tests.run.conftest import PASSWORD, amtflow, write_definitions
from tests.waits import UNTIL_TOLD_S, MovableClock


def wait_for(condition: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_resume_after_a_crash_sends_run_resumed_then_how_it_ended(
    tmp_path: Path, start_simulator: Any, webhook: Webhook
) -> None:
    clock = MovableClock()  # LONG runs until the runner was killed: however late its notice came
    live = start_simulator(
        {"jobs": {"LONG": {"duration": UNTIL_TOLD_S}}}, users={"OPCONAPI": PASSWORD}, clock=clock
    )
    jobs = [{"name": "LONG", "task": "batch_job", "job_name": "LONG"}]
    schedule = write_definitions(tmp_path, live.url, jobs)
    document = yaml.safe_load(schedule.read_text())
    document["notifications"] = [
        {
            "name": "ops",
            "urls": [{"env": "OPS"}],
            "events": ["run_started", "run_resumed", "run_ok"],
        }
    ]
    document["schedules"][0]["notify"] = ["ops"]
    schedule.write_text(yaml.safe_dump(document, sort_keys=False))
    env = {**os.environ, "AMT_TEST_PASSWORD": PASSWORD, "OPS": webhook.apprise_url("ops")}
    state = ["--log-dir", str(tmp_path / "logs"), "--state-dir", str(tmp_path / "state")]
    command = [sys.executable, "-m", "amtflow", "run", str(schedule), "--date", DATE, "--plain"]
    runner = subprocess.Popen(command + state, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL)
    wait_for(lambda: live.simulator.record.starts_by_job() and webhook.posts)
    runner.send_signal(signal.SIGKILL)
    runner.wait(10)

    runs = json.loads(
        amtflow(
            "status", "--state-dir", tmp_path / "state", "--format", "json", cwd=tmp_path
        ).stdout
    )
    run_id = runs["runs"][0]["run_id"]
    clock.end_long_jobs()
    resumed = amtflow(
        "resume",
        run_id,
        "--state-dir",
        tmp_path / "state",
        "--plain",
        cwd=tmp_path,
        env={"OPS": env["OPS"]},
    )
    assert resumed.returncode == 0, resumed.stderr
    assert [post.title for post in webhook.posts] == [
        f"NIGHTLY {DATE}: Started: 1 jobs to run",
        f"NIGHTLY {DATE}: Resumed: the run was picked up again",
        f"NIGHTLY {DATE}: OK: all 1 jobs ended OK",
    ]
    assert all(f"run {run_id}." in post.message for post in webhook.posts)


def test_a_run_refused_at_preflight_is_a_run_failed(
    tmp_path: Path, start_simulator: Any, webhook: Webhook
) -> None:
    live = start_simulator({}, users={"OPCONAPI": "not-the-password"})
    schedule = write_definitions(
        tmp_path, live.url, [{"name": "A", "task": "batch_job", "job_name": "A"}]
    )
    document = yaml.safe_load(schedule.read_text())
    document["notifications"] = [
        {"name": "ops", "urls": [{"env": "OPS"}], "events": ["run_started", "run_failed"]}
    ]
    document["schedules"][0]["notify"] = ["ops"]
    schedule.write_text(yaml.safe_dump(document, sort_keys=False))
    result = amtflow(
        "run",
        schedule,
        "--date",
        DATE,
        "--plain",
        "--state-dir",
        tmp_path / "state",
        "--log-dir",
        tmp_path / "logs",
        cwd=tmp_path,
        env={"OPS": webhook.apprise_url("ops")},
    )
    assert result.returncode == 1
    assert "preflight failed, no job was started" in result.stderr
    assert len(webhook.posts) == 1  # no run_started: the run never began
    post = webhook.posts[0]
    assert post.title.startswith(f"NIGHTLY {DATE}: Failed before any job started: preflight failed")
    assert len(post.title) <= 80
    assert "run (none)." in post.message and "agent amt" in post.message
    assert PASSWORD not in post.message
    assert live.simulator.record.starts_by_job() == {}


def test_a_rerun_that_turns_the_date_ok_sends_run_recovered(
    tmp_path: Path, start_simulator: Any, webhook: Webhook
) -> None:
    from amtflow.simulator import Scenario

    live = start_simulator({"default": {"duration": 0.05}, "jobs": {"B": {"end_code": 11}}})
    jobs = [{"name": n, "task": "batch_job", "job_name": n} for n in ("A", "B")]
    schedule = write_definitions(tmp_path, live.url, jobs)
    document = yaml.safe_load(schedule.read_text())
    document["notifications"] = [
        {
            "name": "ops",
            "urls": [{"env": "OPS"}],
            "events": ["run_failed", "run_ok", "run_recovered"],
        }
    ]
    document["schedules"][0]["notify"] = ["ops"]
    schedule.write_text(yaml.safe_dump(document, sort_keys=False))
    env = {"OPS": webhook.apprise_url("ops")}
    first = amtflow("run", schedule, "--date", DATE, "--plain", cwd=tmp_path, env=env)
    assert first.returncode == 1, first.stderr
    runs = json.loads(amtflow("status", "--format", "json", cwd=tmp_path).stdout)["runs"]
    live.simulator.scenario = Scenario.from_mapping({"default": {"duration": 0.05}})
    rerun = amtflow("rerun", runs[0]["run_id"], "--plain", cwd=tmp_path, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert [post.title for post in webhook.posts] == [
        f"NIGHTLY {DATE}: Failed: 1 failed, 0 not run, of 2 jobs",
        f"NIGHTLY {DATE}: Recovered: after a rerun all 2 jobs ended OK",
    ]
    assert "- B: ok" in webhook.posts[1].message


def test_a_date_recovered_by_an_operator_s_mark_ok_says_so(
    tmp_path: Path, start_simulator: Any, webhook: Webhook
) -> None:
    """mark-ok of the failed job of a finished run carries it on; the date is OK, but not
    because B 'ended OK after a rerun': B was not started again, an operator passed it."""
    live = start_simulator({"default": {"duration": 0.05}, "jobs": {"B": {"end_code": 11}}})
    jobs = [
        {"name": "B", "task": "batch_job", "job_name": "B"},
        {"name": "C", "task": "batch_job", "job_name": "C", "depends_on": ["B"]},
    ]
    schedule = write_definitions(tmp_path, live.url, jobs)
    document = yaml.safe_load(schedule.read_text())
    document["notifications"] = [
        {"name": "ops", "urls": [{"env": "OPS"}], "events": ["run_recovered"]}
    ]
    document["schedules"][0]["notify"] = ["ops"]
    schedule.write_text(yaml.safe_dump(document, sort_keys=False))
    env = {"OPS": webhook.apprise_url("ops")}
    first = amtflow("run", schedule, "--date", DATE, "--plain", cwd=tmp_path, env=env)
    assert first.returncode == 1, first.stderr
    runs = json.loads(amtflow("status", "--format", "json", cwd=tmp_path).stdout)["runs"]
    marked = amtflow("mark-ok", runs[0]["run_id"], "B", "--plain", cwd=tmp_path, env=env)
    assert marked.returncode == 0, marked.stderr
    (post,) = webhook.posts
    assert post.title == f"NIGHTLY {DATE}: Recovered: all 2 jobs ended OK, 1 by an operator's word"
    assert "- B: failed, completion code ERROR (11), marked OK by" in post.message
    assert live.simulator.record.starts_by_job() == {"B": 1, "C": 1}
