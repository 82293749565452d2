"""A job or script name that comes from ``[[ENV:...]]`` is a secret in every output, also when
the server refuses the Start: the failure's reason names what was started. Real CLI, real
simulator on loopback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.run.conftest import LiveSimulator, amtflow, write_definitions

SECRET = "Start-n4me-fr0m-the-env"
JOBS = [
    {"name": "J", "task": "batch_job", "job_name": "[[ENV:AMT_SECRET_JOB]]"},
    {"name": "S", "task": "script", "script_name": "C:\\x\\[[ENV:AMT_SECRET_JOB]].ps1"},
]


def test_a_refused_start_does_not_show_a_secret_job_name(
    tmp_path: Path, start_simulator: Callable[..., LiveSimulator]
) -> None:
    live = start_simulator({"applications": ["OTHER"]})  # DEMO2 is unknown: every Start refused
    schedule = write_definitions(tmp_path, live.url, JOBS)
    env = {"AMT_SECRET_JOB": SECRET}
    summary, junit = tmp_path / "run.json", tmp_path / "run.xml"
    ran = amtflow(
        "run", schedule, "--date", "2026-11-24", "--plain", "--json", summary, "--junit", junit,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert ran.returncode == 1, ran.stderr
    starts = live.simulator.record.starts()
    assert {r.body.get("jobName") or r.body.get("scriptName") for r in starts} == {
        SECRET,
        f"C:\\x\\{SECRET}.ps1",
    }  # the server got the real names
    assert "start failed: agent amt: Start ********: not found" in ran.stdout
    assert "Start C:\\x\\********.ps1: not found" in ran.stdout
    run_id = json.loads(summary.read_text())["run_id"]
    shown = [
        ran.stdout + ran.stderr,
        summary.read_text(),
        junit.read_text(),
        amtflow("status", run_id, cwd=tmp_path, env=env).stdout,
        amtflow("status", run_id, "--format", "json", cwd=tmp_path, env=env).stdout,
        amtflow("logs", run_id, cwd=tmp_path, env=env).stdout,
    ]
    assert all(SECRET not in text for text in shown)
    for path in (tmp_path / ".amtflow").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
