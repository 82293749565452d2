"""Operating on runs from another terminal: the run lock, ``kill``, ``logs``, ``resume`` refusals."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

from tests.run.conftest import DATE, amtflow, background_run, write_definitions
from tests.waits import UNTIL_TOLD_S, MovableClock, wait_for_batch_request_id

LONG = [
    {"name": "LONG", "task": "batch_job", "job_name": "LONG"},
    {"name": "AFTER", "task": "batch_job", "job_name": "AFTER", "depends_on": ["LONG"]},
]


def wait_until_running(folder: Path, job: str = "LONG") -> str:
    """The run's id, once its runner recorded ``job``'s batch request id (the journal, read as
    ``amtflow status`` reads it, not ``amtflow status`` started every tenth of a second)."""
    return wait_for_batch_request_id(folder / "state", job)


def test_kill_from_another_terminal_ends_the_job_killed(
    tmp_path: Path, start_simulator: Any
) -> None:
    live = start_simulator({"jobs": {"LONG": {"duration": UNTIL_TOLD_S}}})
    schedule = write_definitions(tmp_path, live.url, LONG, allow_kill_job=True)
    runner = background_run(tmp_path, schedule)
    run_id = wait_until_running(tmp_path)
    schedule.unlink()  # kill finds the agent in the journal's record of the run
    killed = amtflow("kill", run_id, "LONG", "--state-dir", tmp_path / "state", cwd=tmp_path)
    assert killed.returncode == 0, killed.stderr
    assert "kill sent for LONG" in killed.stdout
    # the code once, as everywhere: "answered KILLED (3)", never "KILLED (KILLED (3))"
    answered = re.search(r"the server answered ([A-Z_ ]+) \((\d+)\), ", killed.stdout)
    assert answered is not None and killed.stdout.count("(") == 2, killed.stdout
    stdout, stderr = runner.communicate(timeout=60)
    assert runner.returncode == 1, stderr
    assert "LONG killed" in stdout and "AFTER not run" in stdout
    logs = amtflow("logs", run_id, "LONG", "--state-dir", tmp_path / "state", cwd=tmp_path)
    assert logs.returncode == 0
    assert "Completion Code : KILLED (3)" in logs.stdout


def test_kill_is_refused_locally_when_the_agent_forbids_it(
    tmp_path: Path, start_simulator: Any
) -> None:
    live = start_simulator({"jobs": {"LONG": {"duration": UNTIL_TOLD_S}}})
    schedule = write_definitions(tmp_path, live.url, LONG)
    runner = background_run(tmp_path, schedule)
    try:
        run_id = wait_until_running(tmp_path)
        refused = amtflow("kill", run_id, "LONG", "--state-dir", tmp_path / "state", cwd=tmp_path)
        assert refused.returncode == 2
        assert "does not allow kill" in refused.stderr
        assert not any(r.action == "Kill" for r in live.simulator.record.requests)
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.communicate(timeout=60)


def test_a_second_run_of_the_same_schedule_date_is_refused(
    tmp_path: Path, start_simulator: Any
) -> None:
    live = start_simulator({"jobs": {"LONG": {"duration": UNTIL_TOLD_S}}})
    schedule = write_definitions(tmp_path, live.url, LONG, allow_kill_job=True)
    runner = background_run(tmp_path, schedule)
    try:
        run_id = wait_until_running(tmp_path)
        second = amtflow(
            "run", schedule, "--date", DATE, "--state-dir", tmp_path / "state", cwd=tmp_path
        )
        assert second.returncode == 2
        assert run_id in second.stderr and "Traceback" not in second.stderr
        assert live.simulator.record.starts_by_job() == {"LONG": 1}
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.communicate(timeout=60)


def test_a_sigkilled_run_leaves_no_lock_and_can_be_resumed(
    tmp_path: Path, start_simulator: Any
) -> None:
    # LONG runs until the test ends it: the run is still going when it is killed, however slowly
    # a loaded machine answers the status polls before (1.5 s, then 10 s, were over before then)
    clock = MovableClock()
    live = start_simulator({"jobs": {"LONG": {"duration": UNTIL_TOLD_S}}}, clock=clock)
    schedule = write_definitions(tmp_path, live.url, LONG)
    runner = background_run(tmp_path, schedule)
    run_id = wait_until_running(tmp_path)
    runner.send_signal(signal.SIGKILL)
    runner.communicate(timeout=10)
    status = amtflow("status", "--state-dir", tmp_path / "state", cwd=tmp_path)
    assert "stale" in status.stdout
    clock.end_long_jobs()
    resumed = amtflow("resume", run_id, "--state-dir", tmp_path / "state", "--plain", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert live.simulator.record.starts_by_job() == {"LONG": 1, "AFTER": 1}
    again = amtflow("resume", run_id, "--state-dir", tmp_path / "state", cwd=tmp_path)
    assert again.returncode == 2 and "already ended" in again.stderr
    rerun = amtflow(
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
    assert rerun.returncode == 0, rerun.stderr  # a finished schedule date runs once:
    assert f"already ran: run {run_id} ended ok" in rerun.stdout  # nothing starts again
    assert live.simulator.record.starts_by_job() == {"LONG": 1, "AFTER": 1}


def test_unknown_run_and_job_are_clear_errors(tmp_path: Path) -> None:
    for args in (("resume", "nope"), ("kill", "nope", "JOB"), ("logs", "nope")):
        result = amtflow(*args, "--state-dir", tmp_path / "state", cwd=tmp_path)
        assert result.returncode == 2, args
        assert "unknown run 'nope'" in result.stderr and "Traceback" not in result.stderr
