"""Text to AMT reaches the server exactly as the file writes it (issue 17, item 1).

The file is written by hand, not dumped from Python values, so every scalar below is a plain YAML
scalar that YAML's core schema would read as a number or a boolean.
"""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import LiveSimulator, amtflow

DEFINITIONS = """\
version: 1
properties:
  BRANCH: 007
  AMOUNT: 1.50
batch_users:
  - name: api
    identifier: 0042
    password: {{env: AMT_TEST_PASSWORD}}
agents:
  - name: amt
    batch_server_url: {url}
    batch_user: api
schedules:
  - name: NIGHTLY
    defaults: {{agent: amt, application: 0100, station: 1e3, submit_user: 12}}
    jobs:
      - name: FEES
        task: batch_job
        job_name: 000123
        user: 0.50
        queue: 1.0
        task_values: [007, 000123456789012345678, 1.50, 1e3, True, "B=[[BRANCH]]", "A=[[AMOUNT]]"]
      - name: POST
        task: script
        script_name: 12.50
        script_parameters: {{BRANCH: 007, ACCT: 000123456789012345678, AMT: 1.50, E: 1e3, F: FALSE, H: 0x1F, O: 0o17}}
"""


def test_the_server_receives_every_text_field_as_written(
    tmp_path: Path, start_simulator: object
) -> None:
    live: LiveSimulator = start_simulator()  # type: ignore[operator]
    schedule = tmp_path / "nightly.yaml"
    schedule.write_text(DEFINITIONS.format(url=live.url))

    result = amtflow(
        "run",
        schedule,
        "--date",
        "2026-11-30",
        "--plain",
        "--state-dir",
        tmp_path / "state",
        "--log-dir",
        tmp_path / "logs",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    logons = [r.body for r in live.simulator.record.requests if r.path == "/api/logon"]
    assert logons and {body["apiUser"] for body in logons} == {"0042"}
    starts = {r.body["taskType"]: r.body for r in live.simulator.record.starts()}
    batch, script = starts["BatchJob"], starts["Script"]
    common = ("0100", "12", "1e3")
    for body in (batch, script):
        assert (body["applicationName"], body["amtSubmitUser"], body["amtStation"]) == common
    assert (batch["jobName"], batch["amtUser"], batch["amtQueueName"]) == ("000123", "0.50", "1.0")
    assert batch["taskValues"] == [
        "007",
        "000123456789012345678",
        "1.50",
        "1e3",
        "True",
        "B=007",
        "A=1.50",
    ]
    assert script["scriptName"] == "12.50"
    assert script["scriptParameters"] == [
        "BRANCH=007",
        "ACCT=000123456789012345678",
        "AMT=1.50",
        "E=1e3",
        "F=FALSE",
        "H=0x1F",
        "O=0o17",
    ]
    # nothing above was produced by formatting a number: each is a slice of the file's text
    text = schedule.read_text()
    for value in (*batch["taskValues"][:5], *script["scriptParameters"]):
        assert value.split("=")[-1] in text


def test_plan_shows_the_values_as_written(tmp_path: Path) -> None:
    schedule = tmp_path / "nightly.yaml"
    schedule.write_text(DEFINITIONS.format(url="http://127.0.0.1:1"))
    result = amtflow("plan", schedule, "--date", "2026-11-30", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    jobs = {job["name"]: job for job in json.loads(result.stdout)["jobs"]}
    assert jobs["FEES"]["task_values"][:4] == ["007", "000123456789012345678", "1.50", "1e3"]
    assert jobs["POST"]["script_parameters"][0] == "BRANCH=007"


def test_names_and_durations_are_not_text_fields(tmp_path: Path) -> None:
    """Only text sent to AMT is kept as written: a number where a name or duration goes is an error."""
    schedule = tmp_path / "nightly.yaml"
    text = DEFINITIONS.format(url="http://127.0.0.1:1").replace("name: POST", "name: 7")
    schedule.write_text(text.replace("        queue: 1.0\n", "        max_run_time: 60\n"))
    result = amtflow("validate", schedule, cwd=tmp_path)
    assert result.returncode == 2
    assert (
        "nightly.yaml:23:15: error: name in schedule 'NIGHTLY' must be text, not 7" in result.stdout
    )
    assert (
        "nightly.yaml:21:23: error: max_run_time 60 in job 'FEES' has no unit: write 60s, 60m or 60h"
        in result.stdout
    )
