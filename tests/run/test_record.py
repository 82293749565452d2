"""The resolved plan as the journal keeps it: it reads back equal, and holds no secret."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from amtflow import definitions as defs
from amtflow.batch import StartRequest
from amtflow.client.wire import start_body
from amtflow.errors import StateError
from amtflow.orchestration.record import RecordedPlan, RunSpec, from_data, to_data
from amtflow.plan import choose_schedule, make_plan
from amtflow.task import AmtTask, TaskType

ROOT = Path(__file__).resolve().parents[2]
DATE = dt.date(2026, 11, 24)


def recorded() -> RecordedPlan:
    definitions = defs.load([ROOT / "definitions" / "nightly.yaml"])
    plan = make_plan(definitions, choose_schedule(definitions, None), DATE)
    spec = RunSpec("/defs/nightly.yaml", plan.schedule.name, DATE, "/logs", properties={"X": "1"})
    return RecordedPlan.of(spec, plan, definitions)


def test_the_recorded_plan_reads_back_as_the_plan_it_was() -> None:
    original = recorded()
    again = RecordedPlan.from_json(original.to_json(), "run-1")
    assert again == original
    assert again.plan().jobs == original.jobs
    assert [j.request for j in again.jobs] == [j.request for j in original.jobs]
    assert again.plan().job("FILENAMETEST").job.retry.on_codes  # type: ignore[union-attr]
    assert set(again.definitions().agents) == {j.job.agent for j in original.jobs}


def test_the_batch_users_password_is_kept_as_a_reference_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AMT_API_PASSWORD", "Hunter2-never-stored")
    text = recorded().to_json()
    assert "Hunter2-never-stored" not in text
    users = json.loads(text)["batch_users"]
    assert all(set(user["password"]) == {"env", "file"} for user in users.values())


def test_older_and_newer_records_read_with_defaults_and_ignore_unknown_fields() -> None:
    data = to_data(RunSpec("/d.yaml", "NIGHTLY", DATE, "/logs"))
    del data["max_parallel"]  # written before the field existed
    data["added_by_a_newer_amtflow"] = True
    assert from_data(RunSpec, data) == RunSpec("/d.yaml", "NIGHTLY", DATE, "/logs")


def test_a_damaged_record_is_one_clear_error() -> None:
    with pytest.raises(StateError, match="run run-1: its recorded plan cannot be read"):
        RecordedPlan.from_json('{"spec": {"date": "not a date"}}', "run-1")


OLDER_PLAN = ROOT / "tests" / "data" / "journal" / "plan-before-one-task-type.json"


def test_a_plan_recorded_before_the_one_task_type_starts_the_same_jobs() -> None:
    """The journal of a run begun by the previous amtflow (job_name / task_values / script_name /
    script_parameters spread over the master job and the request) resumes as it was recorded."""
    recorded = RecordedPlan.from_json(OLDER_PLAN.read_text(encoding="utf-8"), "run-1")
    plan = recorded.plan({"DB_PASSWORD": "s3cret-db", "PUSH_TOKEN": "tok-12345"})
    bodies = [start_body(StartRequest("T1", job.request.task)) for job in plan.jobs]
    form = {"action": "Start", "taskId": "T1", "applicationName": "DEMO2", "amtSubmitUser": "BATCH"}
    assert bodies == [
        {
            **form,
            "taskType": "BatchJob",
            "amtUser": "RUNAS",
            "amtStation": "OPCON",
            "amtQueueName": "LOW",
            "jobName": "EXTRACT",
            "taskValues": ["PERIOD=2026-11-24", "PW=s3cret-db"],
        },
        {
            **form,
            "taskType": "Script",
            "amtUser": None,
            "amtStation": "ST1",
            "amtQueueName": None,
            "scriptName": "F:\\Amt\\push.ps1",
            "scriptParameters": ["MODE=full", "TOKEN=tok-12345"],
        },
    ]
    assert [job.request.shown.parameters for job in plan.jobs] == [
        ("PERIOD=2026-11-24", "PW=********"),
        ("MODE=full", "TOKEN=********"),
    ]
    assert [job.request.secrets for job in plan.jobs] == [("s3cret-db",), ("tok-12345",)]
    assert recorded.jobs[1].job.task == AmtTask(
        TaskType.SCRIPT,
        "DEMO2",
        "F:\\Amt\\push.ps1",
        ("MODE=full", "TOKEN=[[ENV:PUSH_TOKEN]]"),
        station="ST1",
    )


def test_a_plan_recorded_before_the_one_task_type_is_recorded_again_in_todays_form() -> None:
    recorded = RecordedPlan.from_json(OLDER_PLAN.read_text(encoding="utf-8"), "run-1")
    again = RecordedPlan.from_json(recorded.to_json(), "run-1")
    assert again == recorded
    assert "task_values" not in recorded.to_json()
