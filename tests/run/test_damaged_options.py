"""A damaged ``options`` column in the journal (hand-edited, truncated JSON) does not block its
schedule date for good: ``run`` says so in one line naming the journal and the run, and after
``amtflow abandon RUN`` the next run of the date is a new one. Nothing else recorded is lost.
Real CLI, real simulator on loopback, the journal damaged with sqlite3."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.run.conftest import LiveSimulator, amtflow, write_definitions
from tests.waits import UNTIL_TOLD_S, MovableClock

DATE = "2026-11-24"
JOBS = [
    {"name": "A", "task": "batch_job", "job_name": "A"},
    {"name": "B", "task": "batch_job", "job_name": "B", "depends_on": ["A"]},
]


def _damage(journal: Path) -> str:
    with sqlite3.connect(journal) as db:
        run_id = db.execute("SELECT run_id FROM runs").fetchone()[0]
        db.execute("UPDATE runs SET options = substr(options, 1, 20)")  # truncated by hand
    return str(run_id)


def _attempts(journal: Path, run_id: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(journal) as db:
        sql = "SELECT * FROM job_runs WHERE run_id = ? ORDER BY job, attempt"
        return db.execute(sql, (run_id,)).fetchall()


@pytest.mark.parametrize("again", [False, True])
def test_a_damaged_options_column_is_one_line_and_abandon_frees_the_date(
    tmp_path: Path, start_simulator: Callable[..., LiveSimulator], again: bool
) -> None:
    live = start_simulator({"default": {"duration": 0.05}})
    schedule = write_definitions(tmp_path, live.url, JOBS)
    run = ("run", schedule, "--date", DATE, "--plain")
    assert amtflow(*run, cwd=tmp_path).returncode == 0
    journal = tmp_path / ".amtflow" / "journal.db"
    run_id = _damage(journal)
    recorded = _attempts(journal, run_id)

    refused = amtflow(*run, cwd=tmp_path)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert (
        f"run {run_id} of NIGHTLY {DATE}: its recorded options in journal "
        ".amtflow/journal.db cannot be read (Unterminated string" in refused.stderr
    )
    assert f"amtflow abandon {run_id}" in refused.stderr
    assert live.simulator.record.starts_by_job() == {"A": 1, "B": 1}  # nothing started

    if again:  # a finished run: --again starts a new run at once, as for any finished run
        fresh = amtflow(*run, "--again", cwd=tmp_path)
    else:
        abandoned = amtflow("abandon", run_id, cwd=tmp_path)
        assert abandoned.returncode == 0, abandoned.stdout + abandoned.stderr
        assert f"run {run_id} abandoned" in abandoned.stdout
        fresh = amtflow(*run, cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert live.simulator.record.starts_by_job() == {"A": 2, "B": 2}
    assert _attempts(journal, run_id) == recorded  # the damaged run's jobs are kept
    status = json.loads(amtflow("status", "--format", "json", cwd=tmp_path).stdout)["runs"]
    assert {r["run_id"]: r["state"] for r in status}[run_id] == ("ok" if again else "abandoned")
    shown = amtflow("status", run_id, cwd=tmp_path)  # the damaged run is still shown
    assert shown.returncode == 0 and "A" in shown.stdout

    # The date is done now: the same command starts nothing (the damaged run is not in the way).
    repeated = amtflow(*run, cwd=tmp_path)
    assert repeated.returncode == 0, repeated.stdout + repeated.stderr
    assert "already ran" in repeated.stdout
    assert live.simulator.record.starts_by_job() == {"A": 2, "B": 2}


def test_an_unfinished_run_with_damaged_options_is_refused_and_resume_carries_it_on(
    tmp_path: Path, start_simulator: Callable[..., LiveSimulator]
) -> None:
    from tests.run.test_run_once import stale_run

    clock = MovableClock()  # LONG runs until the refusals are seen (3 s could end it first)
    live = start_simulator({"jobs": {"LONG": {"duration": UNTIL_TOLD_S}}}, clock=clock)
    schedule = write_definitions(tmp_path, live.url, [
        {"name": "LONG", "task": "batch_job", "job_name": "LONG"}
    ])  # fmt: skip
    run_id = stale_run(tmp_path, schedule, live, "LONG")
    _damage(tmp_path / ".amtflow" / "journal.db")
    run = ("run", schedule, "--date", DATE, "--plain")
    for extra in ((), ("--again",)):  # its jobs may still run: --again is no way round it
        refused = amtflow(*run, *extra, cwd=tmp_path)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert refused.stderr.count("\n") == 1
        assert f"amtflow resume {run_id} carries it on instead" in refused.stderr
    clock.end_long_jobs()
    resumed = amtflow("resume", run_id, "--plain", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert live.simulator.record.starts_by_job() == {"LONG": 1}  # re-attached, not started again
