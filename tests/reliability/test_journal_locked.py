"""Another process holds the journal's write lock while a run goes on (a ``sqlite3`` shell left in
a transaction, a backup script): the run keeps following its jobs, starts nothing new until the
taskIds can be committed, records everything once the lock is free, says so in one line each
way, and ends as it would have (``state/busy.py``). A SIGKILL meanwhile loses nothing ``resume``
cannot rebuild."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.run.conftest import (
    PASSWORD,
    LiveSimulator,
    amtflow,
    background_run,
    status_json,
    write_definitions,
)

HOLD_S = 12.0  # longer than the run's warning delay (10 s), and than the old busy timeout

_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def hold_lock(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process takes the journal's write lock and keeps it ``seconds``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(db), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


def jobs_of(state_dir: Path) -> dict[str, str]:
    runs = status_json(state_dir)["runs"]
    detail = status_json(state_dir, runs[0]["run_id"])
    return {job["job"]: job["state"] for job in detail["jobs"]}


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


@pytest.fixture
def chain(tmp_path: Path, start_simulator: Any) -> Iterator[tuple[LiveSimulator, Path]]:
    """LONG (runs through the hold) beside A -> B, where A ends while the lock is held."""
    scenario = {
        "jobs": {
            "LONG": {"duration": 8.0, "messages": [f"LONG step {n}" for n in range(1, 6)]},
            "A": {"duration": 1.0, "messages": ["A step"]},
            "B": {"duration": 0.2, "messages": ["B step"]},
        }
    }
    live: LiveSimulator = start_simulator(scenario, users={"OPCONAPI": PASSWORD})
    jobs = [
        {"name": "LONG", "task": "batch_job", "job_name": "LONG"},
        {"name": "A", "task": "batch_job", "job_name": "A"},
        {"name": "B", "task": "batch_job", "job_name": "B", "depends_on": ["A"]},
    ]
    yield live, write_definitions(tmp_path, live.url, jobs)


def test_a_run_holds_through_a_foreign_write_lock_and_records_everything_after(
    tmp_path: Path, chain: tuple[LiveSimulator, Path]
) -> None:
    live, schedule = chain
    record = live.simulator.record
    run = background_run(tmp_path, schedule, stdout=subprocess.DEVNULL)
    db = tmp_path / "state" / "journal.db"
    wait_for(lambda: record.starts_by_job()["A"] == 1 and record.starts_by_job()["LONG"] == 1)
    holder = hold_lock(db, HOLD_S)
    held_at = time.monotonic()
    time.sleep(HOLD_S - 2)
    # the loop goes on: the run kept asking the servers about its jobs; A ended meanwhile, but
    # B's Start waits for its taskId's commit, which waits for the lock
    asked = [r.time - held_at for r in record.requests if r.time > held_at]
    assert len([at for at in asked if 2 < at < HOLD_S - 2]) >= 3, asked
    assert record.starts_by_job()["B"] == 0
    assert holder.wait(timeout=30) == 0
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 0, stderr
    assert time.monotonic() - held_at >= HOLD_S
    assert "Traceback" not in stderr
    waiting = [line for line in stderr.splitlines() if "waiting for another process" in line]
    assert len(waiting) == 1, stderr
    assert str(db) in waiting[0] and waiting[0].startswith("amtflow: warning:")
    assert len([line for line in stderr.splitlines() if "let go" in line]) == 1, stderr
    assert jobs_of(tmp_path / "state") == {"LONG": "ok", "A": "ok", "B": "ok"}
    assert record.starts_by_job() == {"LONG": 1, "A": 1, "B": 1}
    assert status_json(tmp_path / "state")["runs"][0]["state"] == "ok"


def test_sigkill_while_the_lock_is_held_then_resume_ends_the_run_as_undisturbed(
    tmp_path: Path, chain: tuple[LiveSimulator, Path]
) -> None:
    live, schedule = chain
    record = live.simulator.record
    run = background_run(tmp_path, schedule, stdout=subprocess.DEVNULL)
    db = tmp_path / "state" / "journal.db"
    wait_for(lambda: record.starts_by_job()["A"] == 1 and record.starts_by_job()["LONG"] == 1)
    holder = hold_lock(db, 4.0)
    time.sleep(2.0)  # A has ended on the server: its end (and LONG's messages) are held
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=10)
    assert holder.wait(timeout=30) == 0
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
        (run_id,) = conn.execute("SELECT run_id FROM runs").fetchone()
        on_disk = dict(conn.execute("SELECT job, state FROM job_runs").fetchall())
    # A's end was held when the run was killed, and B never got its taskId: lost, to rebuild
    assert on_disk == {"LONG": "running", "A": "running"}
    resumed = amtflow("resume", run_id, "--state-dir", tmp_path / "state", "--plain", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert jobs_of(tmp_path / "state") == {"LONG": "ok", "A": "ok", "B": "ok"}
    # resume re-attached to A and LONG (the same batch request ids), never a second AMT job
    assert [r.created for r in record.starts() if r.created] == sorted(
        {r.created for r in record.starts() if r.created}
    )
    assert len({r.created for r in record.starts() if r.created}) == 3
    for name in ("LONG", "A", "B"):
        (log,) = (tmp_path / "logs").rglob(f"{name}.*.log")
        quoted = [line for line in log.read_text().splitlines() if line.startswith('"')]
        assert len(quoted) == len(set(quoted)), f"a message written twice in {log}"


def test_an_operator_command_meeting_the_lock_says_so_in_one_line(
    tmp_path: Path, chain: tuple[LiveSimulator, Path]
) -> None:
    _, schedule = chain
    done = amtflow(
        "run", schedule, "--date", "2026-11-24", "--plain", "--state-dir", tmp_path / "state",
        "--log-dir", tmp_path / "logs", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run_id = status_json(tmp_path / "state")["runs"][0]["run_id"]
    holder = hold_lock(tmp_path / "state" / "journal.db", 30)
    try:  # a new run of the next date meanwhile: it cannot record its start either
        later = background_run(tmp_path, schedule, "--date", "2026-11-25")
        refused = amtflow("mark-ok", run_id, "B", "--state-dir", tmp_path / "state", cwd=tmp_path)
        _, later_err = later.communicate(timeout=60)
    finally:
        holder.kill()
        holder.wait()
    for code, stderr in ((refused.returncode, refused.stderr), (later.returncode, later_err)):
        assert code == 2
        lines = stderr.strip().splitlines()
        assert len(lines) == 1, stderr
        assert "another process has held its write lock" in lines[0]
        assert str(tmp_path / "state" / "journal.db") in lines[0]
    assert len(status_json(tmp_path / "state")["runs"]) == 1  # nothing recorded
