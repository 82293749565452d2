"""Opening a state dir: private files, and one clear StateError for every unusable state."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from amtflow.errors import StateError
from amtflow.orchestration.record import spec_of
from amtflow.runs import JobState, RunState
from amtflow.state import Journal, RunLock, schema
from tests.state.conftest import DATE

SECRET_WORDS = ("password", "passwd", "secret", "token", "credential", "header", "auth", "key")


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_dir_db_and_wal_are_private_even_under_a_lax_umask(state_dir: Path) -> None:
    old = os.umask(0o002)
    try:
        with Journal.open(state_dir) as journal:
            run = journal.begin_run("NIGHTLY", DATE, definitions="", digest="")
            journal.new_attempt(run.run_id, "A", 1, "t1")
            wal = state_dir / "journal.db-wal"
            assert wal.exists()
            assert _mode(wal) == 0o600
            assert _mode(state_dir / "journal.db-shm") == 0o600
    finally:
        os.umask(old)
    assert _mode(state_dir) == 0o700
    assert _mode(state_dir / "journal.db") == 0o600


def test_corrupted_file_is_one_clear_state_error(state_dir: Path) -> None:
    state_dir.mkdir()
    (state_dir / "journal.db").write_bytes(os.urandom(8192))
    with pytest.raises(StateError, match=r"journal.db: not a usable amtflow journal: .*database"):
        Journal.open(state_dir)


def test_a_file_where_the_state_dir_should_be(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("not a dir")
    with pytest.raises(StateError, match="state dir .*state: exists and is not a directory"):
        Journal.open(tmp_path / "state")


def test_a_state_dir_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a regular file")
    with pytest.raises(StateError, match="state dir .*file/state: cannot create it: Not a dir"):
        Journal.open(tmp_path / "file" / "state")


def test_a_lock_dir_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a regular file")
    with pytest.raises(StateError, match="state dir .*file/locks: cannot create it: Not a dir"):
        RunLock.acquire(tmp_path / "file", "NIGHTLY", DATE, "RUN-1")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through chmod 500")
def test_an_unwritable_state_dir(state_dir: Path) -> None:
    state_dir.mkdir(mode=0o500)
    with pytest.raises(StateError, match="cannot open it for writing: Permission denied"):
        Journal.open(state_dir)


def test_a_newer_schema_is_refused(state_dir: Path) -> None:
    Journal.open(state_dir).close()
    with sqlite3.connect(state_dir / "journal.db") as conn:
        conn.execute(f"PRAGMA user_version = {len(schema.MIGRATIONS) + 1}")
    conn.close()
    newer = len(schema.MIGRATIONS) + 1
    with pytest.raises(StateError, match=f"has schema version {newer}, newer than this amtflow"):
        Journal.open(state_dir)


def test_an_empty_sqlite_db_is_migrated(state_dir: Path) -> None:
    state_dir.mkdir()
    sqlite3.connect(state_dir / "journal.db").close()
    with Journal.open(state_dir) as journal:
        assert journal.runs() == []
    assert _user_version(state_dir) == len(schema.MIGRATIONS)


def test_an_older_db_is_migrated_keeping_its_rows(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Journal.open(state_dir) as journal:  # a db at today's last version
        run = journal.begin_run("NIGHTLY", DATE, definitions="", digest="")
    today = len(schema.MIGRATIONS)
    step = ("ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT ''",)
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, step))
    with Journal.open(state_dir) as journal:
        assert journal.run(run.run_id).schedule == "NIGHTLY"
    assert _user_version(state_dir) == today + 1
    assert "note" in _columns(state_dir, "runs")


def test_a_failing_migration_changes_nothing(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Journal.open(state_dir).close()
    today = len(schema.MIGRATIONS)
    broken = ("ALTER TABLE runs ADD COLUMN note TEXT", "THIS IS NOT SQL")
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, broken))
    with pytest.raises(StateError, match="not a usable amtflow journal"):
        Journal.open(state_dir)
    assert _user_version(state_dir) == today
    assert "note" not in _columns(state_dir, "runs")


def test_the_schema_has_no_place_for_a_secret(journal: Journal, state_dir: Path) -> None:
    columns = _columns(state_dir, "runs") | _columns(state_dir, "job_runs")
    columns |= _columns(state_dir, "notices")
    assert {"task_id", "batch_request_id", "log_path"} <= columns  # the check reads real columns
    assert not [c for c in columns for word in SECRET_WORDS if word in c]
    assert "secret" not in repr(journal).lower()


def test_job_state_values_fit_the_stored_strings(journal: Journal) -> None:
    run = journal.begin_run("NIGHTLY", DATE, definitions="", digest="")
    for attempt, state in enumerate(s for s in JobState if s.finished):
        journal.new_attempt(run.run_id, "A", attempt + 1, f"t{attempt}")
        journal.finish_attempt(run.run_id, "A", attempt + 1, state, completion_code=None)
    assert {r.state for r in journal.job_runs(run.run_id)} == {s for s in JobState if s.finished}


def _user_version(state_dir: Path) -> int:
    conn = sqlite3.connect(state_dir / "journal.db")
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def _columns(state_dir: Path, table: str) -> set[str]:
    conn = sqlite3.connect(state_dir / "journal.db")
    try:
        return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
    finally:
        conn.close()


def test_a_schema_1_journal_gains_a_plan_column_and_keeps_its_runs(state_dir: Path) -> None:
    state_dir.mkdir(mode=0o700)
    with sqlite3.connect(state_dir / "journal.db") as conn:  # as amtflow wrote it before plans
        for statement in schema.MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO runs (run_id, schedule, date, state, started_at, options)"
            " VALUES ('old-run', 'NIGHTLY', '2026-11-24', 'ok', '2026-11-24T06:00:00+00:00',"
            ' \'{"schedule": null, "jobs": ["A"], "log_dir": "/logs"}\')'
        )
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    with Journal.open(state_dir) as journal:
        old = journal.run("old-run")
        assert old.plan == "" and old.state is RunState.OK
        assert [r.run_id for r in journal.runs_of("NIGHTLY", DATE)] == ["old-run"]
    assert _user_version(state_dir) == len(schema.MIGRATIONS) == 5
    assert "notices" in _tables(state_dir)
    assert "job_marks" in _tables(state_dir)
    assert "plan" in _columns(state_dir, "runs")
    spec = spec_of(old)  # the old options still read as a typed run spec
    assert (spec.jobs, spec.log_dir, spec.requested, spec.date) == (("A",), "/logs", False, DATE)


def _tables(state_dir: Path) -> set[str]:
    conn = sqlite3.connect(state_dir / "journal.db")
    try:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


def _killed_while_creating(state_dir: Path) -> list[Path]:
    """What a runner SIGKILLed while it makes a new journal leaves: its whole temporary file,
    never linked into place. A real process, killed at that moment."""
    state_dir.mkdir(mode=0o700, exist_ok=True)
    code = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from amtflow.state import schema\n"
        "schema._link = lambda made, db: os.kill(os.getpid(), signal.SIGKILL)\n"
        "schema.create(Path(sys.argv[1]) / 'journal.db')\n"
    )
    killed = subprocess.run([sys.executable, "-c", code, str(state_dir)], check=False)
    assert killed.returncode == -signal.SIGKILL
    left = sorted(state_dir.glob(".journal-*.tmp*"))
    assert left and not (state_dir / "journal.db").exists()
    return left


def _aged(paths: list[Path], seconds: float) -> None:
    for path in paths:
        os.utime(path, (time.time() - seconds, time.time() - seconds))


def test_the_next_run_removes_what_a_killed_journal_creation_left(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    stale = _killed_while_creating(state_dir)
    _aged(stale, schema.STALE_TEMPORARY_S + 60)
    being_made = _killed_while_creating(tmp_path / "other")  # as if another process were at it
    for path in being_made:
        path.rename(state_dir / path.name.replace(".journal-", ".journal-busy"))
    busy = sorted(state_dir.glob(".journal-busy*"))
    _aged(busy, schema.STALE_TEMPORARY_S - 60)  # recent enough to be someone's work in progress
    mine = state_dir / ".journal-notes.txt"  # not amtflow's temporary file: never touched
    mine.write_text("kept")
    _aged([mine], schema.STALE_TEMPORARY_S * 10)

    result = subprocess.run(
        [sys.executable, "-m", "amtflow", "abandon", "NIGHTLY-2026", "--state-dir", state_dir],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2 and "unknown run" in result.stderr, result.stderr
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in busy) and mine.read_text() == "kept"
    assert (state_dir / "journal.db").is_file()  # the journal itself made whole, as before
