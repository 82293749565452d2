"""The public Python API: exactly the pinned names, cheap to import, and the documented example
runs the example definitions on the embedded simulator."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import amtflow
from amtflow.simulator import Simulator
from amtflow.state import journal_path

ROOT = Path(__file__).resolve().parents[1]
API_DOC = ROOT / "docs" / "api.md"

# Adding a name is a promise to keep it: change this list on purpose, with docs/api.md.
PUBLIC = [
    "Agent",
    "AmtflowError",
    "BatchUser",
    "DefinitionError",
    "Definitions",
    "Diagnostic",
    "JobOutcome",
    "JobState",
    "MasterJob",
    "Plan",
    "PlannedJob",
    "RunResult",
    "RunState",
    "Schedule",
    "SkippedJob",
    "Validation",
    "__version__",
    "load",
    "make_plan",
    "run",
    "run_async",
    "validate",
]


def test_the_exported_names_are_exactly_the_pinned_list() -> None:
    assert amtflow.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(amtflow, name) is not None, name
        assert name in dir(amtflow)


def test_every_exported_name_is_documented() -> None:
    text = API_DOC.read_text(encoding="utf-8")
    missing = [name for name in PUBLIC if name != "__version__" and f"`{name}" not in text]
    assert not missing


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'engine_internals'"):
        _ = amtflow.engine_internals  # type: ignore[attr-defined]


def test_import_amtflow_imports_nothing_else() -> None:
    """`amtflow validate` starts through `import amtflow`: the API must not make it heavier."""
    code = "import sys, amtflow; print(sorted(m for m in sys.modules if m.startswith('amtflow')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['amtflow', 'amtflow.lazy']"  # lazy: the PEP 562 hook


def test_the_cli_does_not_import_the_api() -> None:
    code = (
        "import sys; from amtflow import cli; "
        "print([m for m in ('amtflow.api', 'amtflow.orchestration.drive') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture
def simulators(monkeypatch: pytest.MonkeyPatch) -> list[Simulator]:
    """Every simulator a run starts, to read what it received (the run itself is unchanged)."""
    started: list[Simulator] = []
    original = Simulator.running

    @contextlib.asynccontextmanager
    async def running(self: Simulator, *args: Any, **kwargs: Any) -> AsyncIterator[str]:
        started.append(self)
        async with original(self, *args, **kwargs) as url:
            yield url

    monkeypatch.setattr(Simulator, "running", running)
    return started


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the repository's example definitions, as the current directory."""
    shutil.copytree(ROOT / "definitions", tmp_path / "definitions")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AMT_API_PASSWORD", raising=False)
    yield tmp_path


def documented_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", API_DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "docs/api.md should hold one python example"
    return str(blocks[0])


def test_the_documented_example_runs_on_the_embedded_simulator(
    workspace: Path, simulators: list[Simulator], capsys: pytest.CaptureFixture[str]
) -> None:
    names: dict[str, Any] = {}
    exec(compile(documented_example(), str(API_DOC), "exec"), names)
    out = capsys.readouterr().out

    validation, plan, result = names["validation"], names["plan"], names["result"]
    assert validation.ok and validation.diagnostics == ()
    assert "wave 1: DAYSTART" in out
    assert [job.name for job in plan.waves[0]] == ["DAYSTART"]
    assert result.exit_status == 0
    assert result.state is amtflow.RunState.OK
    states = {o.name: o.state for o in result.outcomes}
    assert states["INVOICERECOVER"] is amtflow.JobState.SKIPPED
    ran = sorted(name for name, state in states.items() if state is amtflow.JobState.OK)
    assert len(ran) == len(plan.jobs) - 1
    assert f"{result.run_id} ok exit status 0" in out

    # What the simulator received: each planned job started once, with its resolved request.
    [simulator] = simulators
    starts = {
        str(r.body.get("jobName") or r.body.get("scriptName")): r.body
        for r in simulator.record.starts()
    }
    assert simulator.record.starts_by_job() == {
        job.request.task.name: 1 for job in plan.jobs if job.name != "INVOICERECOVER"
    }
    assert starts["DAYSTART"]["taskValues"] == ["RUNDATE=2026-11-24"]
    assert starts["DAYSTART"]["applicationName"] == "DEMO2"
    script = starts["F:\\Amt\\Scripts\\DEMO2\\RUN_FILENAMETEST.ps1"]
    assert script["taskType"] == "Script"
    assert script["scriptParameters"] == ["INPUT=F:\\Amt\\Data\\DEMO2\\in\\daily.csv", "MODE=full"]

    # The files a user would look at: one log per job that ran, under the given dirs.
    logs = sorted((workspace / "state" / "logs" / "NIGHTLY" / "2026-11-24").glob("*.log"))
    assert len(logs) == len(ran)
    daystart = next(o for o in result.outcomes if o.name == "DAYSTART")
    assert Path(daystart.log_path).read_text(encoding="utf-8").count("RUNDATE=2026-11-24") >= 1
    assert journal_path(workspace / "state").exists()


def test_the_journal_records_an_api_run_as_amtflow_status_shows_it(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definitions = amtflow.load(["definitions/nightly.yaml"])
    plan = amtflow.make_plan(definitions, dt.date(2026, 11, 24), jobs=["DAYSTART"])
    result = amtflow.run(plan, definitions, simulate=True, state_dir="state", log_dir="logs")
    assert [o.name for o in result.outcomes] == ["DAYSTART"]
    status = subprocess.run(
        [sys.executable, "-m", "amtflow", "status", result.run_id, "--state-dir", "state"],
        capture_output=True,
        text=True,
        cwd=workspace,
    )
    assert status.returncode == 0, status.stderr
    assert "DAYSTART" in status.stdout and "ok" in status.stdout


def test_a_simulated_api_run_is_kept_apart_by_default(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definitions = amtflow.load(["definitions/nightly.yaml"])
    plan = amtflow.make_plan(definitions, dt.date(2026, 11, 24), jobs=["DAYSTART"])
    result = amtflow.run(plan, definitions, simulate=True)
    assert result.exit_status == 0
    apart = workspace / ".amtflow" / "simulated"
    assert journal_path(apart).exists() and not journal_path(workspace / ".amtflow").exists()
    assert [p.name for p in (apart / "logs").rglob("*.log")] == ["DAYSTART.4280.log"]
    status = subprocess.run(  # found by its id from the default state dir, marked simulated
        [sys.executable, "-m", "amtflow", "status", result.run_id],
        capture_output=True,
        text=True,
        cwd=workspace,
    )
    assert status.returncode == 0, status.stderr
    assert "ok simulated" in status.stdout


async def test_run_async_reports_a_failed_job_with_exit_status_1(
    workspace: Path, simulators: list[Simulator]
) -> None:
    scenario = workspace / "scenario.yaml"
    scenario.write_text("default: {duration: 0.05}\njobs: {DAYSTART: {end_code: 11}}\n")
    definitions = amtflow.load(["definitions/nightly.yaml"])
    plan = amtflow.make_plan(definitions, dt.date(2026, 11, 24))
    result = await amtflow.run_async(
        plan, definitions, simulate=True, scenario=scenario, state_dir="s", log_dir="l"
    )
    assert result.exit_status == 1
    assert result.state is amtflow.RunState.FAILED
    outcomes = {o.name: o for o in result.outcomes}
    assert outcomes["DAYSTART"].completion_code == 11
    assert outcomes["DAYEND"].state is amtflow.JobState.NOT_RUN
    assert simulators[0].record.starts_by_job() == {"DAYSTART": 1}


def test_invalid_definitions_raise_definition_error_with_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nagents: [{name: a}]\nschedules: nope\n", encoding="utf-8")
    assert not amtflow.validate([bad]).ok
    with pytest.raises(amtflow.DefinitionError) as caught:
        amtflow.load([bad])
    assert isinstance(caught.value, amtflow.AmtflowError)
    assert caught.value.exit_status == 2
    assert len(caught.value.diagnostics) >= 2
    assert all(str(d).startswith(f"{bad}:") for d in caught.value.diagnostics)


def test_plan_mistakes_are_amtflow_errors() -> None:
    definitions = amtflow.load([ROOT / "definitions" / "nightly.yaml"])
    with pytest.raises(amtflow.AmtflowError, match="no schedule named 'DAILY'"):
        amtflow.make_plan(definitions, dt.date(2026, 11, 24), schedule="DAILY")
    with pytest.raises(amtflow.AmtflowError, match="has no job 'NOPE'"):
        amtflow.make_plan(definitions, dt.date(2026, 11, 24), jobs=["NOPE"])
    off = amtflow.make_plan(definitions, dt.date(2026, 12, 25))
    assert off.jobs == () and "holidays" in off.reason


def test_a_scenario_without_simulate_is_refused_before_anything_runs(workspace: Path) -> None:
    definitions = amtflow.load(["definitions/nightly.yaml"])
    plan = amtflow.make_plan(definitions, dt.date(2026, 11, 24))
    with pytest.raises(amtflow.AmtflowError, match="scenario goes with simulate"):
        amtflow.run(plan, definitions, scenario="x.yaml", state_dir="state")
    assert not (workspace / "state").exists()


def test_a_run_from_another_thread_is_refused_before_anything_is_recorded(workspace: Path) -> None:
    definitions = amtflow.load(["definitions/nightly.yaml"])
    plan = amtflow.make_plan(definitions, dt.date(2026, 11, 24), jobs=["DAYSTART"])
    caught: list[BaseException] = []

    def work() -> None:
        try:
            amtflow.run(plan, definitions, simulate=True, state_dir="state", log_dir="logs")
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    [error] = caught
    assert isinstance(error, amtflow.AmtflowError) and "main thread" in str(error)
    assert not (workspace / "state").exists() and not (workspace / "logs").exists()
