"""Crash safety: SIGKILL the runner at many moments, ``amtflow resume``, and get the outcome an
undisturbed run gives, with no AMT job started twice and every message logged exactly once."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.run.conftest import (
    PASSWORD,
    LiveSimulator,
    amtflow,
    background_run,
    status_json,
    write_definitions,
)

PARALLEL = ("--max-parallel", "8")
FAILING = {"J07", "J19"}


def scenario() -> dict[str, Any]:
    rng = random.Random(7)
    jobs = {}
    for i in range(30):
        name = f"J{i:02d}"
        jobs[name] = {
            "duration": rng.choice([0.05, 0.1, 0.2, 0.4]),
            "end_code": 11 if name in FAILING else 4,
            "messages": [f"{name} step {n}" for n in range(1, 5)],
        }
    return {"jobs": jobs}


def schedule_jobs() -> list[dict[str, Any]]:
    """30 jobs in 5 waves of 6; a job depends on two of the wave before."""
    jobs = []
    for i in range(30):
        job: dict[str, Any] = {"name": f"J{i:02d}", "task": "batch_job", "job_name": f"J{i:02d}"}
        if i >= 6:
            job["depends_on"] = [f"J{i - 6:02d}", f"J{(i - 6) // 6 * 6 + (i + 1) % 6:02d}"]
        jobs.append(job)
    return jobs


def expected_states() -> dict[str, str]:
    states: dict[str, str] = {}
    for job in schedule_jobs():
        deps = job.get("depends_on", [])
        if any(states[d] != "ok" for d in deps):
            states[job["name"]] = "not_run"
        else:
            states[job["name"]] = "failed" if job["name"] in FAILING else "ok"
    return states


def start_run(folder: Path, schedule: Path) -> subprocess.Popen[str]:
    """The run the trials kill: eight jobs at once, its stdout not read."""
    return background_run(folder, schedule, *PARALLEL, stdout=subprocess.DEVNULL)


def wait_for(condition: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def final_jobs(folder: Path) -> tuple[str, str, dict[str, dict[str, Any]]]:
    """The run's id, its recorded state and its jobs, as ``amtflow status`` reports them."""
    runs = status_json(folder / "state")["runs"]
    assert len(runs) == 1
    detail = status_json(folder / "state", runs[0]["run_id"])
    return runs[0]["run_id"], runs[0]["state"], {job["job"]: job for job in detail["jobs"]}


def check_logs(folder: Path, jobs: dict[str, dict[str, Any]]) -> None:
    logs = sorted((folder / "logs").rglob("*.log"))
    started = {name for name, job in jobs.items() if job["state"] in ("ok", "failed")}
    assert Counter(p.name.split(".")[0] for p in logs) == Counter(started)
    for path in logs:
        name = path.name.split(".")[0]
        text = path.read_text()
        quoted = [line for line in text.splitlines() if line.startswith('"')]
        assert len(quoted) == len(set(quoted)), f"a message written twice in {path}"
        steps = [line for line in quoted if f"{name} step" in line]
        assert steps == [f'"{name} step {n}"' for n in range(1, 5)], path
        last = f'"{name} ended with ERROR"' if name in FAILING else '"Done"'
        assert quoted[-1] == last and quoted[0].startswith('"Started Rev'), path
        assert "Completion Code : " + ("ERROR" if name in FAILING else "DONE") in text


def kill_moments() -> list[tuple[str, float]]:
    """20 moments: 3 while a Start is sent and not yet answered, then 17 spread over the run,
    each a number of Starts the server has received (1 to 17 of the 21 jobs that start) plus a
    small delay, so that every kill lands while the run is still going, however fast it is."""
    moments = [("start-in-flight", 0.0)] * 3
    moments += [("after", starts + (0.0, 0.03, 0.08)[starts % 3]) for starts in range(1, 18)]
    return moments


@pytest.mark.parametrize(
    ("kind", "delay"),
    kill_moments(),
    ids=[f"{k}-{d:.2f}-{i}" for i, (k, d) in enumerate(kill_moments())],
)
def test_sigkill_then_resume_gives_the_undisturbed_outcome(
    tmp_path: Path, start_simulator: Any, kind: str, delay: float
) -> None:
    live: LiveSimulator = start_simulator(scenario(), users={"OPCONAPI": PASSWORD})
    if kind == "start-in-flight":  # widen the window between "taskId committed" and the answer
        live.simulator.faults.slow_seconds = 0.5
        live.simulator.faults.slow_rate = 1.0
        live.simulator.faults.paths = ("/api/OpConJobAction",)
    schedule = write_definitions(tmp_path, live.url, schedule_jobs(), max_concurrent_jobs=8)
    runner = start_run(tmp_path, schedule)
    record = live.simulator.record
    if kind == "start-in-flight":
        wait_for(lambda: any(r.action == "Start" and r.answer is None for r in record.requests))
    else:
        starts, pause = int(delay), delay - int(delay)
        wait_for(lambda: len(record.starts_by_job()) >= starts)
        time.sleep(pause)
    runner.send_signal(signal.SIGKILL)
    runner.wait(10)
    live.simulator.faults.clear()

    run_id, state, _ = final_jobs(tmp_path)
    assert state == "running", "killed after the run ended"
    resumed = amtflow("resume", run_id, "--state-dir", tmp_path / "state", "--plain", cwd=tmp_path)
    assert "Traceback" not in resumed.stderr, resumed.stderr
    assert resumed.returncode == 1, resumed.stderr  # two jobs fail, as in an undisturbed run
    _, _, jobs = final_jobs(tmp_path)
    assert {name: job["state"] for name, job in jobs.items()} == expected_states()
    created = record.starts_by_job()
    assert all(count == 1 for count in created.values()), created
    assert set(created) == {n for n, s in expected_states().items() if s != "not_run"}
    check_logs(tmp_path, jobs)
