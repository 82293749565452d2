"""Shell completion (click's): command names, and RUN / JOB arguments from the journal.

Driven as the shell scripts that ``_AMTFLOW_COMPLETE=bash_source amtflow`` prints drive it: the
real ``amtflow`` console script with ``COMP_WORDS`` and ``COMP_CWORD`` set.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from amtflow import definitions as defs
from amtflow.orchestration.record import RecordedPlan, RunSpec
from amtflow.packing import pack
from amtflow.plan import choose_schedule, make_plan
from amtflow.state import Journal

AMTFLOW = shutil.which("amtflow")
ROOT = Path(__file__).resolve().parents[1]
DATE = dt.date(2026, 11, 24)
pytestmark = pytest.mark.skipif(
    AMTFLOW is None, reason="the amtflow console script is not installed"
)


def complete(words: str, cwd: Path) -> list[str]:
    """What completing the last word of ``words`` offers (bash: one ``type,value`` a line)."""
    parts = words.split(" ")
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AMTFLOW_")},
        "_AMTFLOW_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(parts) - 1),
    }
    result = subprocess.run(
        [str(AMTFLOW)], env=environment, cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if "," in line]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_script_is_printed_for_each_shell(tmp_path: Path, shell: str) -> None:
    result = subprocess.run(
        [str(AMTFLOW)],
        env={**os.environ, "_AMTFLOW_COMPLETE": f"{shell}_source"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "_AMTFLOW_COMPLETE" in result.stdout


def test_command_names_complete(tmp_path: Path) -> None:
    assert complete("amtflow sta", tmp_path) == ["status"]
    assert set(complete("amtflow re", tmp_path)) == {"resume", "rerun", "report", "release"}
    assert complete("amtflow mark", tmp_path) == ["mark-ok"]
    assert complete("amtflow logs pu", tmp_path) == ["purge"]


def recorded(state_dir: Path, schedule: str, jobs: tuple[str, ...]) -> str:
    with Journal.open(state_dir) as journal:
        run = journal.begin_run(schedule, dt.date(2026, 11, 24), definitions="d.yaml", digest="")
        for job in jobs:
            journal.new_attempt(run.run_id, job, 1, f"task-{job}")
    return run.run_id


def test_run_ids_and_job_names_complete_from_the_journal(tmp_path: Path) -> None:
    state = tmp_path / ".amtflow"
    nightly = recorded(state, "NIGHTLY", ("EXTRACT", "REPORT", "MAIL"))
    weekly = recorded(state, "WEEKLY", ("SUMMARY",))
    offered = complete("amtflow status ", tmp_path)
    assert set(offered) == {nightly, weekly}
    assert complete(f"amtflow status {nightly[:-3]}", tmp_path) == [nightly]
    assert complete(f"amtflow kill {nightly} RE", tmp_path) == ["REPORT"]
    for operator_command in ("hold", "release", "skip", "mark-ok"):
        assert complete(f"amtflow {operator_command} {nightly[:-3]}", tmp_path) == [nightly]
        assert complete(f"amtflow {operator_command} {nightly} EXTRACT MA", tmp_path) == ["MAIL"]
    assert set(complete(f"amtflow logs show {nightly} ", tmp_path)) == {"EXTRACT", "REPORT", "MAIL"}
    # the state dir given on the command line is the one read
    assert complete("amtflow status --state-dir elsewhere ", tmp_path) == []


def test_completion_offers_nothing_rather_than_an_error(tmp_path: Path) -> None:
    assert complete("amtflow status ", tmp_path) == []  # no state dir at all
    (tmp_path / ".amtflow").mkdir()
    (tmp_path / ".amtflow" / "journal.db").write_bytes(b"not a database")
    assert complete("amtflow resume ", tmp_path) == []
    assert complete("amtflow kill nope ", tmp_path) == []


def planned(state_dir: Path, plan: str | bytes, started: tuple[str, ...]) -> str:
    """A run recorded with the plan ``plan`` (JSON text, or packed as runs record it), of which the jobs ``started`` have started."""
    with Journal.open(state_dir) as journal:
        run = journal.begin_run("NIGHTLY", DATE, definitions="nightly.yaml", digest="", plan=plan)
        for job in started:
            journal.new_attempt(run.run_id, job, 1, f"task-{job}")
    return run.run_id


def test_operator_actions_complete_the_planned_jobs_that_have_not_started(tmp_path: Path) -> None:
    definitions = defs.load([ROOT / "definitions" / "nightly.yaml"])
    plan = make_plan(definitions, choose_schedule(definitions, None), DATE)
    spec = RunSpec("nightly.yaml", plan.schedule.name, DATE, "logs")
    recorded_plan = RecordedPlan.of(spec, plan, definitions)
    run_id = planned(tmp_path / ".amtflow", pack(recorded_plan.json_chunks()), ("DAYSTART",))
    everything = [job.name for job in plan.jobs]
    assert "MONTHEND" not in everything and len(everything) > 5  # not planned that day
    for operator_command in ("hold", "release", "skip", "mark-ok"):
        offered = complete(f"amtflow {operator_command} {run_id} ", tmp_path)
        assert offered == everything
        assert complete(f"amtflow {operator_command} {run_id} REPORT", tmp_path) == [
            "REPORTTEST01",
            "REPORTTEST02",
        ]
    # commands on what ran offer only the jobs that started
    assert complete(f"amtflow kill {run_id} ", tmp_path) == ["DAYSTART"]
    assert complete(f"amtflow logs show {run_id} ", tmp_path) == ["DAYSTART"]


def test_a_plan_in_an_older_form_completes_too(tmp_path: Path) -> None:
    older = (ROOT / "tests" / "data" / "journal" / "plan-before-one-task-type.json").read_text()
    run_id = planned(tmp_path / ".amtflow", older, ())
    assert complete(f"amtflow hold {run_id} ", tmp_path) == ["EXTRACT", "PUSH"]


@pytest.mark.parametrize(
    "damaged",
    ["{not json", "[]", '{"jobs": 5}', '{"jobs": [7, {"job": 3}, {"job": {"name": 9}}]}', "null"],
)
def test_a_damaged_plan_completes_the_started_jobs_and_no_error(
    tmp_path: Path, damaged: str
) -> None:
    run_id = planned(tmp_path / ".amtflow", damaged, ("EXTRACT", "REPORT"))
    assert complete(f"amtflow hold {run_id} ", tmp_path) == ["EXTRACT", "REPORT"]
    assert complete(f"amtflow skip {run_id} R", tmp_path) == ["REPORT"]
