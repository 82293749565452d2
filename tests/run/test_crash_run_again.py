"""Crash safety the way machines restart things: SIGKILL the runner, edit the definitions (a
``git pull``), then the *same* ``amtflow run`` command again (cron's next attempt, systemd's
restart, a new pod). It resumes the run from the journal: every job started exactly once, the
final states, logs and exit status of an undisturbed run; once more, it starts nothing."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.run.conftest import DATE, PASSWORD, LiveSimulator, amtflow
from tests.run.conftest import write_definitions as write_schedule
from tests.run.test_crash_resume import (
    PARALLEL,
    check_logs,
    expected_states,
    final_jobs,
    kill_moments,
    scenario,
    schedule_jobs,
    start_run,
    wait_for,
)

# 11 of the resume trials' 20 moments: 2 with Starts in flight, 9 spread over the run
MOMENTS = kill_moments()[:2] + kill_moments()[3::2]


def same_command(folder: Path, schedule: Path) -> subprocess.CompletedProcess[str]:
    """What ``start_run`` ran, run again to its end."""
    return amtflow(
        "run",
        schedule,
        "--date",
        DATE,
        "--plain",
        *PARALLEL,
        "--log-dir",
        folder / "logs",
        "--state-dir",
        folder / "state",
        cwd=folder,
    )


def edit_definitions(schedule: Path) -> None:
    """What a git pull may bring: another server, a renamed AMT job, one more job."""
    jobs = schedule_jobs()
    jobs[29]["job_name"] = "RENAMED"
    jobs.append({"name": "J30", "task": "batch_job", "job_name": "J30"})
    write_schedule(schedule.parent, "http://127.0.0.1:9", jobs, max_concurrent_jobs=8)


@pytest.mark.parametrize(
    ("kind", "delay"), MOMENTS, ids=[f"{k}-{d:.2f}-{i}" for i, (k, d) in enumerate(MOMENTS)]
)
def test_sigkill_then_the_same_run_command_gives_the_undisturbed_outcome(
    tmp_path: Path, start_simulator: Any, kind: str, delay: float
) -> None:
    live: LiveSimulator = start_simulator(scenario(), users={"OPCONAPI": PASSWORD})
    if kind == "start-in-flight":
        live.simulator.faults.slow_seconds = 0.5
        live.simulator.faults.slow_rate = 1.0
        live.simulator.faults.paths = ("/api/OpConJobAction",)
    schedule = write_schedule(tmp_path, live.url, schedule_jobs(), max_concurrent_jobs=8)
    runner = start_run(tmp_path, schedule)
    record = live.simulator.record
    if kind == "start-in-flight":
        wait_for(lambda: any(r.action == "Start" and r.answer is None for r in record.requests))
    else:
        wait_for(lambda: len(record.starts_by_job()) >= int(delay))
        time.sleep(delay - int(delay))
    runner.send_signal(signal.SIGKILL)
    runner.wait(10)
    live.simulator.faults.clear()
    run_id, state, _ = final_jobs(tmp_path)
    assert state == "running", "killed after the run ended"
    edit_definitions(schedule)

    again = same_command(tmp_path, schedule)
    assert "Traceback" not in again.stderr, again.stderr
    assert again.returncode == 1, again.stderr  # two jobs fail, as in an undisturbed run
    assert f"resuming run {run_id} of NIGHTLY {DATE}: its runner (pid " in again.stdout
    # carried on where its jobs run, and said so: the definitions now name another server
    assert (
        f"agent 'amt' is at http://127.0.0.1:9 in the definitions, but run {run_id} began on "
        f"{live.url}: carried on there" in again.stderr
    ), again.stderr
    _, state, jobs = final_jobs(tmp_path)  # still one run: the same one
    assert state == "failed"
    assert {name: job["state"] for name, job in jobs.items()} == expected_states()
    created = record.starts_by_job()
    assert all(count == 1 for count in created.values()), created
    assert set(created) == {n for n, s in expected_states().items() if s != "not_run"}
    check_logs(tmp_path, jobs)

    once_more = same_command(tmp_path, schedule)
    assert once_more.returncode == 1, once_more.stderr
    assert f"NIGHTLY {DATE} already ran: run {run_id} ended failed" in once_more.stdout
    assert record.starts_by_job() == created
