"""A distinctive password and every token the server issues appear nowhere: not in any
command's output, log file, state file, nor in what the server recorded (bar the logon body)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from amtflow.simulator import Scenario, Simulator
from tests.run.conftest import LiveSimulator, amtflow, serve_in_thread, write_definitions
from tests.waits import UNTIL_TOLD_S, wait_for_batch_request_id

PASSWORD = "Zq9-DISTINCT-pw-7781"
WRONG = "Wr0ng-DISTINCT-pw-4413"
DATE = "2026-11-24"
SCENARIO = {
    "users": {"OPCONAPI": PASSWORD},
    "default": {"duration": 0.2, "messages": ["working"]},
    "jobs": {
        "FAILS": {"duration": 0.1, "end_code": 11, "messages": ["no data"]},
        "LONG": {"duration": UNTIL_TOLD_S},  # killed by the test
    },
}
JOBS: list[dict[str, Any]] = [
    {"name": "EXTRACT", "task": "batch_job", "job_name": "EXTRACT"},
    {"name": "FAILS", "task": "batch_job", "job_name": "FAILS", "depends_on": ["EXTRACT"]},
    {
        "name": "SCRIPT",
        "task": "script",
        "script_name": "F:\\Amt\\run.ps1",
        "script_parameters": {"MODE": "full"},
    },
]


class TokenTrackingSimulator(Simulator):
    """The simulator, keeping every token it hands out so that the test can look for them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.issued: list[str] = []
        super().__init__(*args, **kwargs)

    async def _logon(self, request: web.Request) -> web.Response:
        response = await super()._logon(request)
        assert isinstance(response.body, bytes)
        self.issued.append(json.loads(response.body)["amtLogonToken"])
        return response


@pytest.fixture
def live() -> Iterator[LiveSimulator]:
    simulator = TokenTrackingSimulator(Scenario.from_mapping(SCENARIO), seed=5)
    faults = simulator.faults
    faults.error_rate, faults.throttle_rate, faults.retry_after = 0.1, 0.05, 0.2
    faults.drop_rate, faults.token_lifetime = 0.05, 0.5
    # the preflight (status, logon) is spared: its short retry budget is not under test here
    faults.paths = ("/api/OpConJobAction", "/api/MonitorJob", "/api/GetMessages")
    yield from serve_in_thread(simulator)


def command(
    tmp: Path, outputs: list[str], *args: str | Path, password: str = PASSWORD
) -> subprocess.CompletedProcess[str]:
    result = amtflow(*args, cwd=tmp, env=_env(tmp, password), timeout=90)
    outputs += [result.stdout, result.stderr]
    assert "Traceback" not in result.stderr or "--traceback" in map(str, args)
    return result


def _env(tmp: Path, password: str) -> dict[str, str]:
    return {
        "AMT_TEST_PASSWORD": password,
        "AMTFLOW_STATE_DIR": str(tmp / "state"),
        "AMTFLOW_LOG_DIR": str(tmp / "logs"),
    }


def run_id_of(tmp: Path, outputs: list[str]) -> str:
    runs = json.loads(command(tmp, outputs, "status", "--format", "json").stdout)["runs"]
    return str(runs[0]["run_id"])


def kill_a_running_job(tmp: Path, schedule: Path, live: LiveSimulator, outputs: list[str]) -> None:
    """Run LONG in the background, kill it with ``amtflow kill`` from "another terminal"."""
    runner = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "amtflow",
            "run",
            str(schedule),
            "--date",
            DATE,
            "--job",
            "LONG",
            "--plain",
        ],
        cwd=tmp,
        env={**os.environ, **_env(tmp, PASSWORD)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120  # a deadline, not a wait: slow only when broken
        while not any(j.launch.name == "LONG" for j in list(live.simulator.jobs.values())):
            if runner.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"LONG never started: {runner.communicate()[1]}")
            time.sleep(0.1)
        wait_for_batch_request_id(tmp / "state", "LONG")
        assert command(tmp, outputs, "kill", run_id_of(tmp, outputs), "LONG").returncode == 0
        stdout, stderr = runner.communicate(timeout=60)
        assert runner.returncode == 1, stderr  # LONG ended KILLED
    finally:
        runner.kill() if runner.poll() is None else None
    outputs += [stdout, stderr]


def leaks(text: str | bytes, secrets: list[str]) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return [s for s in secrets if s.encode() in data]


def test_no_secret_anywhere_after_every_command(tmp_path: Path, live: LiveSimulator) -> None:
    jobs = [*JOBS, {"name": "LONG", "task": "batch_job", "job_name": "LONG"}]
    schedule = write_definitions(tmp_path, live.url, jobs, allow_kill_job=True)
    out: list[str] = []
    assert command(tmp_path, out, "validate", schedule).returncode == 0
    assert command(tmp_path, out, "plan", schedule, "--date", DATE).returncode == 0
    assert command(tmp_path, out, "agents", "check", schedule).returncode == 0
    run = command(
        tmp_path,
        out,
        "run",
        schedule,
        "--date",
        DATE,
        "--plain",
        *[a for j in JOBS for a in ("--job", j["name"])],
    )
    assert run.returncode == 1, run.stderr  # FAILS fails
    run_id = run_id_of(tmp_path, out)
    assert command(tmp_path, out, "status", run_id).returncode == 0
    assert command(tmp_path, out, "logs", "show", run_id).returncode == 0
    assert command(tmp_path, out, "resume", run_id).returncode == 2  # it ended: nothing to do
    assert command(tmp_path, out, "rerun", run_id, "FAILS", "--plain").returncode == 1
    kill_a_running_job(tmp_path, schedule, live, out)
    refused = command(tmp_path, out, "--traceback", "run", schedule, "--date", DATE, password=WRONG)
    assert refused.returncode == 1 and "Traceback" in refused.stderr
    assert "refused" in refused.stderr
    assert command(tmp_path, out, "logs", "purge", schedule, "--dry-run").returncode == 0
    assert command(tmp_path, out, "logs", "purge", schedule).returncode == 0

    simulator = live.simulator
    assert isinstance(simulator, TokenTrackingSimulator)
    secrets = [PASSWORD, WRONG, *simulator.issued]
    assert len(simulator.issued) >= 5  # short-lived tokens: many were issued
    assert not leaks("\n".join(out), secrets)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "journal.db" for p in files) and any(p.suffix == ".log" for p in files)
    for path in files:
        assert not leaks(path.read_bytes(), secrets), path
    for request in simulator.record.requests:
        seen = json.dumps([request.method, request.path, request.query, request.body])
        assert not leaks(seen, secrets), request
        assert PASSWORD not in repr(request) and (request.token or "~") not in repr(request)
