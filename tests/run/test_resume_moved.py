"""``amtflow resume RUN`` after the definitions gave an agent another URL: the run's taskIds
belong to the server it began on, so resume refuses in one line, naming the agent and both URLs,
and changes nothing; with the URL put back, it carries on. Real CLI, real simulator."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from amtflow.model import Agent
from amtflow.orchestration.moved import moved_agents, shown_url
from tests.run.conftest import PASSWORD, amtflow, background_run, write_definitions
from tests.waits import UNTIL_TOLD_S, MovableClock, wait_for_batch_request_id

JOBS = [
    {"name": "LONG", "task": "batch_job", "job_name": "LONG"},
    {"name": "AFTER", "task": "batch_job", "job_name": "AFTER", "depends_on": ["LONG"]},
]
ELSEWHERE = "http://127.0.0.1:9"  # a DR fail-over's new server: it never heard of the taskIds


def what_is_recorded(folder: Path) -> tuple[list[str], dict[str, bytes]]:
    """Every row of the journal, and every log file's bytes."""
    uri = f"{(folder / 'state' / 'journal.db').as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as journal:
        rows = list(journal.iterdump())
    logs = {str(p): p.read_bytes() for p in sorted((folder / "logs").rglob("*")) if p.is_file()}
    return rows, logs


def states(folder: Path, run_id: str) -> dict[str, str]:
    dirs = ("--state-dir", folder / "state")
    status = amtflow("status", run_id, "--format", "json", *dirs, cwd=folder)
    assert status.returncode == 0, status.stderr
    return {job["job"]: job["state"] for job in json.loads(status.stdout)["jobs"]}


def killed_while_long_runs(
    tmp_path: Path, start_simulator: Any
) -> tuple[Any, MovableClock, Path, str]:
    """A run SIGKILLed while LONG runs on the simulator (until the clock ends it): the runner is
    gone, the job goes on; the simulator, its clock, the schedule file and the run id."""
    clock = MovableClock()
    scenario = {"jobs": {"LONG": {"duration": UNTIL_TOLD_S}}}
    live = start_simulator(scenario, users={"OPCONAPI": PASSWORD}, clock=clock)
    schedule = write_definitions(tmp_path, live.url, JOBS)
    runner = background_run(tmp_path, schedule)
    run_id = wait_for_batch_request_id(tmp_path / "state", "LONG")
    runner.kill()
    runner.communicate(timeout=30)
    return live, clock, schedule, run_id


def resume(folder: Path, run_id: str) -> Any:
    dirs = ("--state-dir", folder / "state", "--log-dir", folder / "logs")
    return amtflow("resume", run_id, "--plain", *dirs, cwd=folder)


def test_resume_refuses_an_agent_moved_since_the_run_began_then_goes_on_when_put_back(
    tmp_path: Path, start_simulator: Any
) -> None:
    live, clock, _, run_id = killed_while_long_runs(tmp_path, start_simulator)

    write_definitions(tmp_path, ELSEWHERE, JOBS)
    before, received = what_is_recorded(tmp_path), len(live.simulator.record)
    refused = resume(tmp_path, run_id)
    assert refused.returncode == 2, refused.stderr
    assert refused.stdout == "" and len(refused.stderr.strip().splitlines()) == 1
    line = refused.stderr.strip()
    assert f"run {run_id}: agent 'amt' is at {ELSEWHERE} in the definitions" in line
    assert f"began on {live.url}" in line and "Traceback" not in line
    assert f"put its batch_server_url back to {live.url}" in line
    assert f"amtflow abandon {run_id}" in line
    assert len(live.simulator.record) == received  # not a request, to either server
    assert what_is_recorded(tmp_path) == before  # journal and logs as they were
    assert states(tmp_path, run_id) == {"LONG": "running", "AFTER": "pending"}

    write_definitions(tmp_path, live.url, JOBS)  # put back: resume re-attaches and carries on
    clock.end_long_jobs()
    resumed = resume(tmp_path, run_id)
    assert resumed.returncode == 0, resumed.stderr
    assert live.simulator.record.starts_by_job() == {"LONG": 1, "AFTER": 1}
    assert states(tmp_path, run_id) == {"LONG": "ok", "AFTER": "ok"}


def test_resume_goes_on_when_the_definitions_cannot_say_where_the_agent_is(
    tmp_path: Path, start_simulator: Any
) -> None:
    # the file gone (or the agent no longer defined): unknown, so the run's own record decides
    live, clock, schedule, run_id = killed_while_long_runs(tmp_path, start_simulator)
    schedule.unlink()
    clock.end_long_jobs()
    resumed = resume(tmp_path, run_id)
    assert resumed.returncode == 0, resumed.stderr
    assert live.simulator.record.starts_by_job() == {"LONG": 1, "AFTER": 1}


def agent(url: str, name: str = "amt") -> Agent:
    return Agent(name=name, batch_server_url=url, batch_user="api")


def test_moved_means_another_server_not_another_spelling_and_never_shows_credentials() -> None:
    recorded = {
        "same": agent("HTTP://Batch.Example:42000/", "same"),
        "moved": agent("https://alice:s3cret@old.example:42000", "moved"),
        "gone": agent("http://gone.example:1", "gone"),
    }
    current = {
        "same": agent("http://batch.example:42000", "same"),
        "moved": agent("https://new.example:42000", "moved"),
    }
    moved = moved_agents(recorded, current)
    assert [(m.agent, m.began_on, m.defined) for m in moved] == [
        ("moved", "https://old.example:42000", "https://new.example:42000")
    ]
    assert shown_url("http://u:p@[::1]:8080/x") == "http://[::1]:8080/x"
    assert shown_url("http://host:1") == "http://host:1"
