"""Finding 4 and 5 of issue 11: secrets handed to a job through ``[[ENV:...]]`` reach the server
and no output; a property "bomb" is refused at validate time, with its position."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from amtflow.properties import MAX_VALUE_CHARS
from amtflow.simulator import Scenario, Simulator
from tests.run.conftest import LiveSimulator, amtflow, serve_in_thread, write_definitions

DATE = "2026-11-24"
DB_SECRET = "Db-SECRET-value-5521"
API_SECRET = "Api-SECRET-value-9034"
JOBS: list[dict[str, Any]] = [
    {
        "name": "LOAD",
        "task": "batch_job",
        "job_name": "LOAD",
        "task_values": ["PERIOD=[[$SCHEDULE DATE]]", "DB_PASSWORD=[[ENV:DB_PASSWORD]]"],
    },
    {
        "name": "PUSH",
        "task": "script",
        "script_name": "F:\\Amt\\push.ps1",
        "script_parameters": {"API_TOKEN": "[[ENV:PUSH_TOKEN]]", "MODE": "full"},
        "depends_on": ["LOAD"],
    },
    {
        "name": "FAILS",
        "task": "batch_job",
        "job_name": "FAILS",
        "task_values": ["KEY=[[SECRET_VIA_PROPERTY]]"],
    },
]
ENV = {"DB_PASSWORD": DB_SECRET, "PUSH_TOKEN": API_SECRET}


@pytest.fixture
def live() -> Iterator[LiveSimulator]:
    from tests.run.conftest import PASSWORD

    scenario = {
        "users": {"OPCONAPI": PASSWORD},
        "default": {"duration": 0.1, "messages": ["working"]},
        "jobs": {"FAILS": {"duration": 0.1, "end_code": 11}},
    }
    yield from serve_in_thread(Simulator(Scenario.from_mapping(scenario), seed=3))


def definitions(folder: Path, url: str) -> Path:
    path = write_definitions(folder, url, JOBS)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["properties"] = {"SECRET_VIA_PROPERTY": "k-[[ENV:DB_PASSWORD]]-x"}
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def everything_written(folder: Path) -> str:
    texts = []
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix != ".yaml":
            texts.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(texts)


def test_secrets_from_the_environment_go_to_the_server_and_nowhere_else(
    tmp_path: Path, live: LiveSimulator
) -> None:
    path = definitions(tmp_path, live.url)
    shown = []
    for command in (
        ("validate", path),
        ("plan", path, "--date", DATE),
        ("plan", path, "--date", DATE, "--format", "json"),
        ("run", path, "--date", DATE, "--json", "run.json", "--junit", "run.xml"),
    ):
        result = amtflow(*command, cwd=tmp_path, env=ENV)
        shown.append(result.stdout + result.stderr)
    assert "DB_PASSWORD=********" in shown[1] and "API_TOKEN=********" in shown[1]
    assert "KEY=k-********-x" in shown[1]
    plan = json.loads(shown[2])
    assert plan["jobs"][0]["task_values"][1] == "DB_PASSWORD=********"
    run_id = json.loads((tmp_path / "run.json").read_text())["run_id"]
    for command in (("status",), ("status", run_id), ("logs", run_id)):
        result = amtflow(*command, cwd=tmp_path, env=ENV)
        shown.append(result.stdout + result.stderr)
    assert "DB_PASSWORD=********" in shown[-1]  # the log header's Parameters
    # The journal keeps [[ENV:...]] references, never values: a rerun without the variable is
    # one clear line, and with it the Start carries the real value again.
    unset = amtflow("rerun", run_id, "FAILS", cwd=tmp_path)
    assert unset.returncode == 2 and "environment variable DB_PASSWORD is not set" in unset.stderr
    rerun = amtflow("rerun", run_id, "FAILS", cwd=tmp_path, env=ENV)
    shown += [unset.stdout + unset.stderr, rerun.stdout + rerun.stderr]
    assert rerun.returncode == 1, rerun.stderr
    for text in [*shown, everything_written(tmp_path)]:
        assert DB_SECRET not in text and API_SECRET not in text
    starts = {
        r.body["jobName" if "jobName" in r.body else "scriptName"]: r.body
        for r in live.simulator.record.starts()
    }
    assert f"DB_PASSWORD={DB_SECRET}" in starts["LOAD"]["taskValues"]
    assert f"API_TOKEN={API_SECRET}" in starts["F:\\Amt\\push.ps1"]["scriptParameters"]
    assert f"KEY=k-{DB_SECRET}-x" in starts["FAILS"]["taskValues"]
    fails = [r.body for r in live.simulator.record.starts() if r.body.get("jobName") == "FAILS"]
    assert len(fails) == 2 and fails[0]["taskValues"] == fails[1]["taskValues"]


def test_a_batch_users_own_password_variable_is_a_validation_error(tmp_path: Path) -> None:
    jobs = [
        {
            "name": "LEAK",
            "task": "batch_job",
            "job_name": "LEAK",
            "task_values": ["PW=[[ENV:AMT_TEST_PASSWORD]]"],
        }
    ]
    path = write_definitions(tmp_path, "http://127.0.0.1:1", jobs)
    result = amtflow("validate", path, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert "nightly.yaml:" in result.stdout
    assert "[[ENV:AMT_TEST_PASSWORD]] is the password of batch user 'api'" in result.stdout


def bomb(levels: int) -> dict[str, str]:
    properties = {"P0": "x" * 10}
    for level in range(1, levels + 1):
        properties[f"P{level}"] = f"[[P{level - 1}]]" * 10
    return properties


@pytest.mark.parametrize("levels", [7, 10])
def test_a_property_bomb_is_refused_at_validate_time_with_its_position(
    tmp_path: Path, levels: int
) -> None:
    jobs = [{"name": "BOOM", "task": "batch_job", "job_name": "BOOM", "task_values": ["X=[[P7]]"]}]
    path = write_definitions(tmp_path, "http://127.0.0.1:1", jobs)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["properties"] = bomb(levels)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    # an unbounded expansion (10**11 characters) never ends; a bounded one ends in seconds even
    # under load, where 30 s is too close: the limit tells the two apart, not the machine's speed
    result = amtflow("validate", path, "--format", "json", cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    found = json.loads(result.stdout)
    long = [d for d in found if "expands to more than 64 KiB" in d["message"]]
    assert long, found
    # P4 expands to 100,000 characters: P4 and every level above it, and the task value
    assert len(long) == levels - 3 + 1
    assert all(d["line"] > 0 and d["column"] > 0 for d in long)
    planned = amtflow("plan", path, "--date", DATE, cwd=tmp_path, timeout=120)
    assert planned.returncode == 2 and len(planned.stdout) < 10_000


def test_a_value_just_under_the_cap_is_fine(tmp_path: Path) -> None:
    fits = "y" * (MAX_VALUE_CHARS - 2)
    jobs = [{"name": "BIG", "task": "batch_job", "job_name": "BIG", "task_values": ["X=[[BIG]]"]}]
    path = write_definitions(tmp_path, "http://127.0.0.1:1", jobs)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["properties"] = {"BIG": fits}
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    assert amtflow("validate", path, cwd=tmp_path).returncode == 0


def test_a_secret_shorter_than_4_characters_is_masked_as_a_whole_token_only(
    tmp_path: Path, start_simulator: Any
) -> None:
    from tests.run.conftest import PASSWORD

    live = start_simulator(
        {
            "users": {"OPCONAPI": PASSWORD},
            "default": {
                "duration": 0.1,
                "messages": ["logon with password abc refused", "table abcdef loaded", "abc."],
            },
            "jobs": {"FAILS": {"duration": 0.1, "end_code": 11}},
        }
    )
    jobs = [{"name": "LOAD", "task": "batch_job", "job_name": "LOAD",
             "task_values": ["PW=[[ENV:SHORT_PW]]"]}]  # fmt: skip
    path = write_definitions(tmp_path, live.url, jobs)
    env = {"SHORT_PW": "abc"}
    planned = amtflow("plan", path, "--date", DATE, cwd=tmp_path, env=env)
    result = amtflow("run", path, "--date", DATE, "--plain", "--json", "r.json", cwd=tmp_path,
                     env=env)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    run_id = json.loads((tmp_path / "r.json").read_text())["run_id"]
    logs = amtflow("logs", run_id, cwd=tmp_path)
    assert "PW=********" in planned.stdout and "PW=********" in logs.stdout
    assert '"logon with password ******** refused"' in logs.stdout  # echoed by the server
    assert '"table abcdef loaded"' in logs.stdout  # not masked inside a longer word
    assert '"********."' in logs.stdout
    whole_token = re.compile(r"(?<![^\W_])abc(?![^\W_])")
    for text in (planned.stdout, result.stdout, result.stderr, logs.stdout,
                 everything_written(tmp_path)):  # fmt: skip
        assert not whole_token.search(text), whole_token.search(text)
    (start,) = live.simulator.record.starts()
    assert start.body["taskValues"] == ["PW=abc"]  # the server gets the real value
