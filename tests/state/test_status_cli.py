"""``amtflow status``: recent runs, one run's jobs, text and JSON; errors in one line."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from amtflow.cli import cli
from amtflow.runs import JobState, RunState
from amtflow.state import Journal
from amtflow.state.status import duration_seconds
from amtflow.timeofday import format_duration
from tests.state.conftest import DATE


def _status(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["status", *args], env=env, catch_exceptions=False)


def _a_finished_run(state_dir: Path) -> str:
    with Journal.open(state_dir) as journal:
        run = journal.begin_run("NIGHTLY", DATE, definitions="n.yaml", digest="d")
        journal.new_attempt(run.run_id, "REPORTTEST01", 1, "t1")
        journal.set_batch_request_id(run.run_id, "REPORTTEST01", 1, 4280, "logs/R.4280.log")
        journal.finish_attempt(
            run.run_id,
            "REPORTTEST01",
            1,
            JobState.FAILED,
            completion_code=11,
            reason="ended with ERROR",
        )
        journal.mark_not_run(run.run_id, "FILENAMETEST", "dependency REPORTTEST01 failed")
        journal.finish_run(run.run_id, RunState.FAILED)
    return run.run_id


def test_no_state_dir_says_no_runs_yet_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"
    result = _status("--state-dir", str(missing))
    assert result.exit_code == 0
    assert "no runs yet" in result.output
    assert not missing.exists()
    as_json = _status("--state-dir", str(missing), "--format", "json")
    assert json.loads(as_json.output)["runs"] == []


def test_state_dir_comes_from_the_environment(state_dir: Path) -> None:
    run_id = _a_finished_run(state_dir)
    result = _status(env={"AMTFLOW_STATE_DIR": str(state_dir)})
    assert run_id in result.output


def test_recent_runs_as_a_table(state_dir: Path) -> None:
    run_id = _a_finished_run(state_dir)
    result = _status("--state-dir", str(state_dir))
    assert result.exit_code == 0
    row = next(line for line in result.output.splitlines() if run_id in line)
    with Journal.open(state_dir, read_only=True) as journal:
        (run,) = journal.runs(1)
    # the run lasted what its five fsynced writes took: 0.0s idle, more on a loaded disk
    took = format_duration(duration_seconds(run))
    assert row.split() == [run_id, "NIGHTLY", "2026-11-24", "failed", "0", "1", "1", "0", took]


def test_recent_runs_as_json(state_dir: Path) -> None:
    run_id = _a_finished_run(state_dir)
    data = json.loads(_status("--state-dir", str(state_dir), "--format", "json").output)
    (run,) = data["runs"]
    assert (run["run_id"], run["state"], run["stale"]) == (run_id, "failed", False)
    assert run["jobs"] == {"failed": 1, "not_run": 1}


def test_one_run_shows_each_job_with_code_name_and_reason(state_dir: Path) -> None:
    run_id = _a_finished_run(state_dir)
    result = _status(run_id[:-3], "--state-dir", str(state_dir))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    report_row = next(line for line in lines if line.strip().startswith("REPORTTEST01 "))
    assert "failed" in report_row and "ERROR (11)" in report_row and "4280" in report_row
    assert "ended with ERROR" in report_row
    assert any(
        "FILENAMETEST" in line and "dependency REPORTTEST01 failed" in line for line in lines
    )
    assert "  REPORTTEST01: logs/R.4280.log" in lines


def test_one_run_as_json(state_dir: Path) -> None:
    run_id = _a_finished_run(state_dir)
    data = json.loads(_status(run_id, "--state-dir", str(state_dir), "--format", "json").output)
    assert data["run"]["run_id"] == run_id
    jobs = {job["job"]: job for job in data["jobs"]}
    assert (jobs["REPORTTEST01"]["completion_code"], jobs["REPORTTEST01"]["completion_name"]) == (
        11,
        "ERROR",
    )
    assert jobs["REPORTTEST01"]["batch_request_id"] == 4280
    assert jobs["FILENAMETEST"]["state"] == "not_run"
    assert jobs["FILENAMETEST"]["task_id"] is None


def test_a_run_whose_process_is_gone_is_shown_stale(state_dir: Path) -> None:
    begin_and_die = (
        "import datetime, os, signal, sys\nfrom pathlib import Path\n"
        "from amtflow.state import Journal\n"
        "j = Journal.open(Path(sys.argv[1]))\n"
        "print(j.begin_run('NIGHTLY', datetime.date(2026, 11, 24), definitions='', digest='')"
        ".run_id, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    died = subprocess.run(
        [sys.executable, "-c", begin_and_die, str(state_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    dead_run = died.stdout.strip()
    with Journal.open(state_dir) as journal:
        live = journal.begin_run("WEEKLY", DATE, definitions="", digest="")
    data = json.loads(_status("--state-dir", str(state_dir), "--format", "json").output)
    stale = {r["run_id"]: r["stale"] for r in data["runs"]}
    assert stale == {dead_run: True, live.run_id: False}
    text = _status("--state-dir", str(state_dir)).output
    assert f"run {dead_run} is recorded as running, but its process" in text


def test_unknown_run_is_one_line_and_exit_2(state_dir: Path) -> None:
    _a_finished_run(state_dir)
    for where in (state_dir, state_dir.parent / "missing"):
        result = subprocess.run(
            [sys.executable, "-m", "amtflow", "status", "nope", "--state-dir", str(where)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2
        assert result.stderr.startswith("amtflow: error: unknown run 'nope'")
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stdout == ""


def test_a_corrupted_journal_is_one_line_and_exit_2(state_dir: Path) -> None:
    state_dir.mkdir()
    (state_dir / "journal.db").write_bytes(b"\x00garbage" * 512)
    result = subprocess.run(
        [sys.executable, "-m", "amtflow", "status", "--state-dir", str(state_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "not a usable amtflow journal" in result.stderr
    assert "Traceback" not in result.stderr


def _older_journal(state_dir: Path, version: int) -> None:
    """A journal as an older amtflow left it: schema ``version``, one failed run."""
    from amtflow.state import schema

    state_dir.mkdir(mode=0o700)
    with sqlite3.connect(state_dir / "journal.db") as conn:
        for step in schema.MIGRATIONS[:version]:
            for statement in step:
                conn.execute(statement)
        conn.execute(
            "INSERT INTO runs (run_id, schedule, date, state, started_at, options)"
            " VALUES ('old-run', 'NIGHTLY', '2026-11-24', 'failed', '2026-11-24T06:00:00+00:00',"
            " '{}')"
        )
        conn.execute(
            "INSERT INTO job_runs (run_id, job, attempt, state, completion_code, reason)"
            " VALUES ('old-run', 'A', 1, 'failed', 11, 'ended ERROR (11)')"
        )
        conn.execute(f"PRAGMA user_version = {version}")
    conn.close()


@pytest.mark.parametrize("version", [1, 2, 3])
def test_status_reads_a_journal_an_older_amtflow_wrote_without_changing_it(
    tmp_path: Path, version: int
) -> None:
    state_dir = tmp_path / "state"
    _older_journal(state_dir, version)
    for args in (["status"], ["status", "old-run", "--format", "json"], ["logs", "old-run"]):
        shown = subprocess.run(
            [sys.executable, "-m", "amtflow", *args, "--state-dir", str(state_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shown.returncode in (0, 1) and not shown.stderr, shown.stderr
        assert "old-run" in shown.stdout or args[0] == "logs"
    with sqlite3.connect(state_dir / "journal.db") as conn:  # read as it is: not migrated
        assert conn.execute("PRAGMA user_version").fetchone()[0] == version
    conn.close()


def _status_process(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "amtflow", "status", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_an_empty_journal_file_reads_as_no_runs_and_is_left_as_it_is(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir(mode=0o700)
    (state_dir / "journal.db").write_bytes(b"")  # a copy gone wrong, a truncate
    result = _status("--state-dir", str(state_dir))
    assert result.exit_code == 0, result.output
    assert "no runs yet" in result.output
    unknown = _status_process("--state-dir", str(state_dir), "20261124")
    assert unknown.returncode == 2
    assert unknown.stderr == "amtflow: error: unknown run '20261124'\n"
    assert (state_dir / "journal.db").read_bytes() == b""  # a reader changes nothing


def test_a_folder_named_journal_db_is_one_clear_error_not_no_runs(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    (state_dir / "journal.db").mkdir(parents=True)
    result = _status_process("--state-dir", str(state_dir))
    assert result.returncode == 2
    journal = state_dir / "journal.db"
    assert result.stderr == (
        f"amtflow: error: state file {journal}: is not a regular file: remove it\n"
    )
