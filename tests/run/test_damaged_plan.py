"""A recorded plan damaged or edited by hand in the journal: ``rerun`` refuses it with one line
before anything starts, instead of crashing half-way with a traceback (and leaving the run
"running"). Real CLI, real simulator on loopback."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from amtflow.packing import unpack
from tests.run.conftest import LiveSimulator, amtflow, write_definitions

DATE = "2026-11-24"
JOBS = [
    {"name": "A", "task": "batch_job", "job_name": "A", "task_values": ["X=1"]},
    {"name": "B", "task": "batch_job", "job_name": "B", "depends_on": ["A"]},
]


def _unknown_dependency(plan: dict[str, Any]) -> None:
    plan["jobs"][1]["depends_on"] = [{"job": "ZZZ", "location": None, "on": "ok"}]


def _cycle(plan: dict[str, Any]) -> None:
    plan["jobs"][0]["depends_on"] = [{"job": "B", "location": None, "on": "ok"}]


def _numbers_for_texts(plan: dict[str, Any]) -> None:
    plan["jobs"][0]["request"]["task"]["parameters"] = [1, 2]


def _text_for_a_list(plan: dict[str, Any]) -> None:
    plan["jobs"][0]["request"]["task"]["parameters"] = "X=1"


def _text_for_seconds(plan: dict[str, Any]) -> None:
    plan["jobs"][0]["job"]["max_run_time"] = "2h"


def _deadline_without_zone(plan: dict[str, Any]) -> None:
    plan["jobs"][0]["times"]["deadline"] = "2026-11-24T01:00:00"


def _agent_gone(plan: dict[str, Any]) -> None:
    plan["agents"] = {}


def _twice(plan: dict[str, Any]) -> None:
    plan["jobs"].append(plan["jobs"][0])


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (_unknown_dependency, "job B depends on ZZZ, not planned"),
        (_cycle, "its jobs depend on each other in a cycle"),
        (_numbers_for_texts, "expected str, found 1"),
        (_text_for_a_list, "expected a list, found 'X=1'"),
        (_text_for_seconds, "expected float, found '2h'"),
        (_deadline_without_zone, "'2026-11-24T01:00:00' has no time zone"),
        (_agent_gone, "job A: its agent or batch user is not recorded"),
        (_twice, "a job is recorded twice"),
    ],
)
def test_rerun_of_a_damaged_recorded_plan_is_refused_before_anything_starts(
    tmp_path: Path,
    start_simulator: Callable[..., LiveSimulator],
    damage: Callable[[dict[str, Any]], None],
    why: str,
) -> None:
    live = start_simulator({"default": {"duration": 0.05}, "jobs": {"A": {"end_code": 11}}})
    schedule = write_definitions(tmp_path, live.url, JOBS)
    assert amtflow("run", schedule, "--date", DATE, "--plain", cwd=tmp_path).returncode == 1
    with sqlite3.connect(tmp_path / ".amtflow" / "journal.db") as db:
        run_id, text = db.execute("SELECT run_id, plan FROM runs").fetchone()
        plan = json.loads(unpack(text))  # packed by the run, written back as text
        damage(plan)
        db.execute("UPDATE runs SET plan = ?", (json.dumps(plan),))
    db.close()
    before = len(live.simulator.record.requests)

    rerun = amtflow("rerun", run_id, "--plain", cwd=tmp_path)
    assert rerun.returncode == 2, rerun.stderr
    assert rerun.stderr.startswith(f"amtflow: error: run {run_id}: its recorded plan cannot be")
    assert rerun.stderr.count("\n") == 1 and why in rerun.stderr, rerun.stderr
    assert len(live.simulator.record.requests) == before  # not even a logon
    status = json.loads(amtflow("status", "--format", "json", cwd=tmp_path).stdout)
    assert status["runs"][0]["state"] == "failed"  # not left "running" by a crash


def test_a_deeply_nested_recorded_plan_is_refused(
    tmp_path: Path, start_simulator: Callable[..., LiveSimulator]
) -> None:
    live = start_simulator({"default": {"duration": 0.05}, "jobs": {"A": {"end_code": 11}}})
    schedule = write_definitions(tmp_path, live.url, JOBS)
    assert amtflow("run", schedule, "--date", DATE, "--plain", cwd=tmp_path).returncode == 1
    with sqlite3.connect(tmp_path / ".amtflow" / "journal.db") as db:
        (run_id,) = db.execute("SELECT run_id FROM runs").fetchone()
        db.execute("UPDATE runs SET plan = ?", ("[" * 100_000 + "]" * 100_000,))
    db.close()
    rerun = amtflow("rerun", run_id, cwd=tmp_path)
    assert rerun.returncode == 2, rerun.stderr
    assert "its recorded plan cannot be read" in rerun.stderr and "Traceback" not in rerun.stderr


def test_a_recorded_max_parallel_of_zero_is_refused_not_waited_on_forever(
    tmp_path: Path, start_simulator: Callable[..., LiveSimulator]
) -> None:
    live = start_simulator({"default": {"duration": 0.05}, "jobs": {"A": {"end_code": 11}}})
    schedule = write_definitions(tmp_path, live.url, JOBS)
    assert amtflow("run", schedule, "--date", DATE, "--plain", cwd=tmp_path).returncode == 1
    with sqlite3.connect(tmp_path / ".amtflow" / "journal.db") as db:
        run_id, plan_text, options_text = db.execute(
            "SELECT run_id, plan, options FROM runs"
        ).fetchone()
        plan, options = json.loads(unpack(plan_text)), json.loads(options_text)
        plan["spec"]["max_parallel"] = options["max_parallel"] = 0
        db.execute("UPDATE runs SET plan = ?, options = ?", (json.dumps(plan), json.dumps(options)))
    db.close()
    rerun = amtflow("rerun", run_id, "--plain", cwd=tmp_path, timeout=60)
    assert rerun.returncode == 2, rerun.stderr
    assert "max_parallel 0 is not a number of jobs" in rerun.stderr
    assert rerun.stderr.count("\n") == 1, rerun.stderr
