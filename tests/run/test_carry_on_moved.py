"""``amtflow rerun`` and ``amtflow mark-ok`` of a finished run after the definitions gave its agent
another server (a DR fail-over): like ``resume``, they refuse in one line naming the agent and both
servers, start nothing on either server and change nothing in the journal; the way on they name
works. The same server spelt otherwise, or a definitions file that is gone, changes nothing.
Real CLI, real simulators on loopback."""

from __future__ import annotations

import datetime as dt
import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from amtflow.errors import StateError
from amtflow.model import Agent
from amtflow.orchestration.moved import Carrying, refuse_moved_agents
from amtflow.orchestration.record import RecordedPlan, RunSpec
from tests.run.conftest import DATE, amtflow, write_definitions
from tests.run.test_resume_moved import states, what_is_recorded

JOBS = [
    {"name": "BAD", "task": "batch_job", "job_name": "BAD"},
    {"name": "AFTER", "task": "batch_job", "job_name": "AFTER", "depends_on": ["BAD"]},
]
ENDED = {"BAD": "failed", "AFTER": "not_run"}
FAILS = {"jobs": {"BAD": {"duration": 0.1, "end_code": 11}}}
COMMANDS = pytest.mark.parametrize("command", ["rerun", "mark-ok"])
CARRIED_ON = {  # exit status and starts on the server the run began on, once carried on:
    "rerun": (1, {"BAD": 2}),  # BAD started again (and fails again)
    "mark-ok": (0, {"BAD": 1, "AFTER": 1}),  # BAD never again; AFTER, which waited for it
}


def cli(folder: Path, *args: str | Path) -> Any:
    return amtflow(*args, "--state-dir", folder / "state", cwd=folder)


def carry_on(folder: Path, command: str, run_id: str) -> Any:
    """``amtflow rerun RUN`` or ``amtflow mark-ok RUN BAD``."""
    jobs = ("BAD",) if command == "mark-ok" else ()
    return cli(folder, command, run_id, *jobs, "--plain")


def shown(folder: Path, run_id: str = "") -> Any:
    """``amtflow status [RUN] --format json``, read."""
    status = cli(folder, "status", *([run_id] if run_id else []), "--format", "json")
    assert status.returncode in (0, 1), status.stderr
    return json.loads(status.stdout)


def failed_run(folder: Path, url: str) -> tuple[Path, str]:
    """A finished run of NIGHTLY at ``url`` in which BAD failed and AFTER was not run."""
    schedule = write_definitions(folder, url, JOBS)
    ran = cli(folder, "run", schedule, "--date", DATE, "--plain", "--log-dir", folder / "logs")
    assert ran.returncode == 1, ran.stderr
    run_id = str(shown(folder)["runs"][0]["run_id"])
    assert states(folder, run_id) == ENDED
    return schedule, run_id


@pytest.fixture
def two_servers(start_simulator: Any) -> tuple[Any, Any]:
    """The server the run begins on, where BAD fails, and the one its agent fails over to."""
    return start_simulator(FAILS), start_simulator()


def refusal(run_id: str, schedule: Path, began_on: str, now: str, command: str) -> str:
    refused, to = {
        "rerun": ("not rerun", "to rerun it"),
        "mark-ok": ("not marked OK nor carried on", "to mark OK and carry it on"),
    }[command]
    again = f"amtflow run {schedule} --schedule NIGHTLY --date {DATE} --again"
    return (
        f"amtflow: error: run {run_id}: agent 'amt' is at {now} in the definitions, but the run "
        f"began on {began_on}, where its jobs' taskIds belong: {refused}; put its "
        f"batch_server_url back to {began_on} {to}, or {again} to start a new run of its date "
        "on the server defined now"
    )


@COMMANDS
def test_refused_when_the_agent_moved_starting_nothing_and_changing_nothing(
    tmp_path: Path, two_servers: tuple[Any, Any], command: str
) -> None:
    began, now = two_servers
    schedule, run_id = failed_run(tmp_path, began.url)
    write_definitions(tmp_path, now.url, JOBS)  # the agent failed over to another server
    before, received = what_is_recorded(tmp_path), len(began.simulator.record)

    refused = carry_on(tmp_path, command, run_id)

    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.splitlines() == [refusal(run_id, schedule, began.url, now.url, command)]
    assert len(began.simulator.record) == received and len(now.simulator.record) == 0
    assert what_is_recorded(tmp_path) == before  # no attempt, no operator action, no log
    assert states(tmp_path, run_id) == ENDED
    assert shown(tmp_path, run_id)["run"]["state"] == "failed"


@COMMANDS
def test_carried_on_as_before_once_the_url_is_put_back(
    tmp_path: Path, two_servers: tuple[Any, Any], command: str
) -> None:
    began, now = two_servers
    _, run_id = failed_run(tmp_path, began.url)
    write_definitions(tmp_path, now.url, JOBS)
    assert carry_on(tmp_path, command, run_id).returncode == 2
    write_definitions(tmp_path, began.url, JOBS)

    carried = carry_on(tmp_path, command, run_id)

    status, starts = CARRIED_ON[command]
    assert carried.returncode == status, carried.stderr
    assert began.simulator.record.starts_by_job() == starts
    assert len(now.simulator.record) == 0


def test_the_new_run_a_refused_rerun_names_starts_on_the_server_defined_now(
    tmp_path: Path, two_servers: tuple[Any, Any]
) -> None:
    began, now = two_servers
    _, run_id = failed_run(tmp_path, began.url)
    write_definitions(tmp_path, now.url, JOBS)
    refused = carry_on(tmp_path, "rerun", run_id)
    assert refused.returncode == 2, refused.stderr
    named = refused.stderr.strip().split(", or ")[-1]
    words = shlex.split(
        named.removesuffix(" to start a new run of its date on the server defined now")
    )
    assert words[:2] == ["amtflow", "run"] and words[-1] == "--again"

    again = cli(tmp_path, *words[1:], "--plain", "--log-dir", tmp_path / "logs")

    assert again.returncode == 0, again.stderr
    assert now.simulator.record.starts_by_job() == {"BAD": 1, "AFTER": 1}
    assert began.simulator.record.starts_by_job() == {"BAD": 1}
    assert states(tmp_path, run_id) == ENDED  # the old run is left as it ended


@COMMANDS
def test_the_same_server_spelt_otherwise_is_not_a_move(
    tmp_path: Path, start_simulator: Any, command: str
) -> None:
    # the run began at http://localhost:PORT; the definitions now spell the host in capitals
    # with a trailing slash: the same server, so the command goes on without a word about it
    live = start_simulator(FAILS)
    port = live.url.rpartition(":")[2]
    _, run_id = failed_run(tmp_path, f"http://localhost:{port}")
    write_definitions(tmp_path, f"http://LocalHost:{port}/", JOBS)

    carried = carry_on(tmp_path, command, run_id)

    status, starts = CARRIED_ON[command]
    assert carried.returncode == status, carried.stderr
    assert "batch_server_url" not in carried.stdout + carried.stderr
    assert live.simulator.record.starts_by_job() == starts


@COMMANDS
def test_carried_on_from_the_record_when_the_definitions_are_gone(
    tmp_path: Path, two_servers: tuple[Any, Any], command: str
) -> None:
    began, now = two_servers
    schedule, run_id = failed_run(tmp_path, began.url)
    schedule.unlink()

    carried = carry_on(tmp_path, command, run_id)

    status, starts = CARRIED_ON[command]
    assert carried.returncode == status, carried.stderr
    assert began.simulator.record.starts_by_job() == starts
    assert len(now.simulator.record) == 0


def test_a_simulated_run_moved_nowhere(tmp_path: Path) -> None:
    # a run on the embedded simulator never used its agent's server: a rerun is not refused
    schedule = write_definitions(tmp_path, "http://127.0.0.1:9", JOBS)
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(yaml.safe_dump(FAILS), encoding="utf-8")
    simulated = ("--simulate", "--scenario", scenario, "--log-dir", tmp_path / "logs")
    ran = cli(tmp_path, "run", schedule, "--date", DATE, "--plain", *simulated)
    assert ran.returncode == 1, ran.stderr
    run_id = str(shown(tmp_path)["runs"][0]["run_id"])
    write_definitions(tmp_path, "http://127.0.0.1:10", JOBS)

    rerun = cli(tmp_path, "rerun", run_id, "--plain")

    assert rerun.returncode == 1, rerun.stderr  # BAD ran again on a new embedded simulator
    assert "batch_server_url" not in rerun.stderr
    assert {job["job"]: job["attempt"] for job in shown(tmp_path, run_id)["jobs"]}["BAD"] == 2


def definitions_with(folder: Path, **urls: str) -> Path:
    """A definitions file with an agent for each of ``urls`` (name: batch_server_url)."""
    agents = [
        {"name": name, "type": "AsyscoAMT", "batch_server_url": url, "batch_user": "api"}
        for name, url in urls.items()
    ]
    user = {"name": "api", "identifier": "OPCONAPI", "password": {"env": "AMT_TEST_PASSWORD"}}
    path = folder / "agents.yaml"
    document = {"version": 1, "batch_users": [user], "agents": agents}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def recorded_at(definitions: Path, **urls: str) -> RecordedPlan:
    """A run's record whose agents began on ``urls``, its definitions file ``definitions``."""
    spec = RunSpec(
        str(definitions), "NIGHTLY", dt.date(2026, 11, 24), "/logs", jobs=("B", "A", "B")
    )
    agents = {
        name: Agent(name=name, batch_server_url=url, batch_user="api") for name, url in urls.items()
    }
    return RecordedPlan(spec, (), agents=agents)


@pytest.mark.parametrize(
    ("command", "refused", "to", "other"),
    [
        ("resume", "not resumed", "to resume it", "amtflow abandon R1 to close it"),
        ("rerun", "not rerun", "to rerun it", "--date 2026-11-24 --job A --job B --again"),
        ("mark-ok", "not marked OK nor carried on", "to mark OK and carry it on", "--again"),
    ],
)
def test_each_command_words_its_refusal_naming_every_moved_agent_without_credentials(
    tmp_path: Path, command: Carrying, refused: str, to: str, other: str
) -> None:
    definitions = definitions_with(
        tmp_path, amt="http://new.example:42000", dr="https://dr.example:443", same="http://same:1"
    )
    recorded = recorded_at(
        definitions,
        amt="http://alice:s3cret@old.example:42000",
        dr="https://old-dr.example:443/",
        same="HTTP://SAME:1/",
        gone="http://gone.example:1",  # no longer defined: nothing known to differ
    )
    with pytest.raises(StateError) as refusal:
        refuse_moved_agents("R1", recorded, command)
    line = str(refusal.value)
    assert line.startswith(
        "run R1: agent 'amt' is at http://new.example:42000 in the definitions, but the run "
        "began on http://old.example:42000, where its jobs' taskIds belong; agent 'dr' is at "
        "https://dr.example:443 in the definitions, but the run began on "
        "https://old-dr.example:443/, where its jobs' taskIds belong: "
        f"{refused}; put their batch_server_url back (amt: http://old.example:42000, "
        f"dr: https://old-dr.example:443/) {to}, or "
    )
    assert other in line and "\n" not in line
    assert "s3cret" not in line and "alice" not in line
    assert "same" not in line and "gone" not in line


def test_nothing_refused_when_the_definitions_cannot_say(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("agents: [\n", encoding="utf-8")
    for definitions in (tmp_path / "gone.yaml", broken):
        refuse_moved_agents("R1", recorded_at(definitions, amt="http://old:1"), "rerun")
    moved = definitions_with(tmp_path, amt="http://new:1")  # and where they can, it is refused
    with pytest.raises(StateError, match="agent 'amt' is at http://new:1"):
        refuse_moved_agents("R1", recorded_at(moved, amt="http://old:1"), "rerun")
