"""The recorded plan is written to the journal compressed, a job at a time (issue 16: a
100,000-job plan was a ~300 MB spike as one tree of dicts and one string), reads back as the
same plan, and a plan kept as text by an earlier amtflow still reads."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from amtflow import definitions as defs
from amtflow.errors import StateError
from amtflow.orchestration import record
from amtflow.orchestration.record import RecordedPlan, RunSpec, to_data
from amtflow.packing import pack, unpack
from amtflow.plan import choose_schedule, make_plan
from tests.run.conftest import LiveSimulator, amtflow, write_definitions

ROOT = Path(__file__).resolve().parents[2]
DATE = dt.date(2026, 11, 24)


def recorded(environ: dict[str, str]) -> RecordedPlan:
    definitions = defs.load([ROOT / "definitions" / "nightly.yaml"])
    schedule = choose_schedule(definitions, None)
    plan = make_plan(definitions, schedule, DATE, environ=environ)
    spec = RunSpec("/defs/nightly.yaml", plan.schedule.name, DATE, "/logs", jobs=("A",))
    return RecordedPlan.of(spec, plan, definitions)


def test_the_text_written_a_job_at_a_time_is_the_whole_plan_as_json() -> None:
    """Byte for byte what ``json.dumps(to_data(plan), sort_keys=True)`` wrote before."""
    plan = recorded({})
    assert plan.skipped and plan.agents and plan.batch_users  # every part is in the example
    assert plan.to_json() == json.dumps(to_data(plan), sort_keys=True)
    assert RecordedPlan.from_json(pack(plan.json_chunks()), "run-1") == plan


def test_the_jobs_written_a_few_at_a_time_are_the_same_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = recorded({})
    assert len(plan.jobs) > 4
    monkeypatch.setattr(record, "JOBS_PER_CHUNK", 2)  # several pieces, one of them short
    chunks = list(plan.json_chunks())
    assert sum(1 for chunk in chunks if chunk.startswith(", {")) >= 2
    assert "".join(chunks) == json.dumps(to_data(plan), sort_keys=True)


def test_packed_and_text_plans_read_the_same() -> None:
    plan = recorded({})
    packed = pack(plan.json_chunks())
    assert isinstance(packed, bytes) and len(packed) < len(plan.to_json()) / 3
    assert unpack(packed) == plan.to_json() == unpack(plan.to_json())
    assert RecordedPlan.from_json(plan.to_json(), "run-1") == plan


def test_a_damaged_packed_plan_is_one_clear_error() -> None:
    packed = pack(recorded({}).json_chunks())
    with pytest.raises(StateError, match="run run-1: its recorded plan cannot be read: damaged"):
        RecordedPlan.from_json(packed[:-20], "run-1")


def test_a_run_keeps_its_plan_packed_and_status_reads_it(
    tmp_path: Path, start_simulator: Callable[..., LiveSimulator]
) -> None:
    live = start_simulator({"default": {"duration": 0}, "jobs": {"J7": {"end_code": 11}}})
    jobs = [
        {"name": f"J{i}", "task": "batch_job", "job_name": f"J{i}", "task_values": ["P=[[ENV:PW]]"]}
        for i in range(30)
    ]
    schedule = write_definitions(tmp_path, live.url, jobs)
    env = {"PW": "pw-never-stored"}
    run = amtflow("run", schedule, "--date", str(DATE), "--plain", cwd=tmp_path, env=env)
    assert run.returncode == 1, run.stderr  # J7 failed
    with sqlite3.connect(tmp_path / ".amtflow" / "journal.db") as db:
        run_id, stored, kind = db.execute("SELECT run_id, plan, typeof(plan) FROM runs").fetchone()
    db.close()
    assert kind == "blob"
    text = unpack(stored)
    assert len(stored) < len(text) / 5
    assert "pw-never-stored" not in text and "[[ENV:PW]]" in text
    status = amtflow("status", run_id, "--format", "json", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert sorted(job["job"] for job in shown["jobs"]) == sorted(f"J{i}" for i in range(30))
    rerun = amtflow("rerun", run_id, "--plain", cwd=tmp_path, env=env)  # from the packed plan
    assert rerun.returncode == 1 and "Traceback" not in rerun.stderr, rerun.stderr
    again = [r.body for r in live.simulator.record.starts() if r.body["jobName"] == "J7"]
    assert len(again) == 2 and again[1]["taskValues"] == ["P=pw-never-stored"]


def test_a_job_with_every_kind_of_field_is_written_as_the_generic_codec_writes_it(
    tmp_path: Path,
) -> None:
    """The per-class encoder gives ``to_data``'s data for secrets kept as references, times,
    dependencies with conditions, retry codes, a job's own frequency and its notifications."""
    from amtflow.orchestration.codec import encoder
    from amtflow.plan import PlannedJob

    path = tmp_path / "all.yaml"
    path.write_text(
        """\
version: 1
batch_users:
  - {name: api, identifier: OPCONAPI, password: {env: PW}}
agents:
  - {name: amt, batch_server_url: "http://127.0.0.1:1", batch_user: api}
notifications:
  - {name: ops, urls: [{env: HOOK}], events: [job_failed]}
schedules:
  - name: ALL
    timezone: Europe/Amsterdam
    defaults: {agent: amt, application: DEMO2}
    jobs:
      - {name: A, task: batch_job, job_name: A, task_values: ["KEY=[[ENV:SECRET]]", "D=[[$SCHEDULE DATE]]"],
         retry: {attempts: 2, delay: 30s, on_codes: [23, 11]}, max_run_time: 1h, notify: [ops],
         start_time: "01:00", latest_start: "+1 02:00", deadline: "+1 03:00"}
      - {name: B, task: script, script_name: 'F:\\s.ps1', script_parameters: {X: "1", Y: two},
         depends_on: [A, {job: C, on: failed}], queue: LOW, user: U, station: S,
         frequency: {days: [tue, mon]}}
      - {name: C, task: batch_job, job_name: C}
"""
    )
    definitions = defs.load([path])
    plan = make_plan(
        definitions, choose_schedule(definitions, None), DATE, environ={"SECRET": "s3cr3t-v"}
    )
    spec = RunSpec(str(path), plan.schedule.name, DATE, "/logs")
    jobs = RecordedPlan.of(spec, plan, definitions).jobs
    assert {job.name for job in jobs} == {"A", "B", "C"} and jobs[0].request.task is not None
    for job in (*jobs, *plan.jobs):
        assert encoder(PlannedJob)(job) == to_data(job)
    assert "s3cr3t-v" not in RecordedPlan.of(spec, plan, definitions).to_json()
