"""Findings 7, 11, 13 and 14 of issue 11: symlinks and foreign files in the state and log dirs,
a lock that cannot be written, a read-only state dir, report files under a lax umask."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from amtflow.cli import cli
from amtflow.errors import StateError
from amtflow.state import RunLock
from amtflow.state.lock import lock_path
from tests.run.conftest import amtflow, write_definitions
from tests.state.conftest import DATE
from tests.tmpfs import small_tmpfs

JOBS = [{"name": "ONE", "task": "batch_job", "job_name": "ONE"}]
DAY = DATE.isoformat()


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def simulated_run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    definitions = write_definitions(tmp_path, "http://127.0.0.1:1", JOBS)
    return amtflow("run", definitions, "--simulate", "--date", DAY, *args, cwd=tmp_path)


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    target = tmp_path / "victim.txt"
    target.write_text("precious\n")
    target.chmod(0o644)
    return target


def test_a_planted_lock_symlink_is_refused_and_its_target_untouched(
    tmp_path: Path, victim: Path
) -> None:
    state = tmp_path / ".amtflow" / "simulated"  # where a simulated run records by default
    link = lock_path(state, "NIGHTLY", DATE)
    link.parent.mkdir(parents=True, mode=0o700)
    for folder in (tmp_path / ".amtflow", state):
        folder.chmod(0o700)
    link.symlink_to(victim)
    result = simulated_run(tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "is a symbolic link, which amtflow does not follow: remove it" in result.stderr
    assert victim.read_text() == "precious\n" and mode(victim) == 0o644


@pytest.mark.parametrize("dangling", [False, True])
def test_a_planted_journal_symlink_is_refused(tmp_path: Path, victim: Path, dangling: bool) -> None:
    state = tmp_path / ".amtflow" / "simulated"  # where a simulated run records by default
    state.mkdir(parents=True, mode=0o700)
    (tmp_path / ".amtflow").chmod(0o700)
    target = tmp_path / "elsewhere.db" if dangling else victim
    (state / "journal.db").symlink_to(target)
    result = simulated_run(tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "symbolic link" in result.stderr and "internal error" not in result.stderr
    assert not (tmp_path / "elsewhere.db").exists()
    assert victim.read_text() == "precious\n" and mode(victim) == 0o644


@pytest.mark.parametrize("which", ["state", "log"])
def test_a_dir_others_can_write_is_refused_with_the_fix(tmp_path: Path, which: str) -> None:
    folder = tmp_path / which
    folder.mkdir()
    folder.chmod(0o777)
    option = "--state-dir" if which == "state" else "--log-dir"
    result = simulated_run(tmp_path, option, str(folder))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"chmod go-w {folder}" in lines[0], result.stderr


def test_a_dir_of_another_user_is_refused(tmp_path: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("only root can give a dir to another user")
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)
    result = simulated_run(tmp_path, "--state-dir", str(folder))
    assert result.returncode == 2 and "is owned by another user" in result.stderr


def test_a_lock_whose_holder_cannot_be_written_is_one_state_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int, data: bytes, offset: int) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("amtflow.state.lock.os.pwrite", full)
    with pytest.raises(StateError, match="cannot write its holder: No space left on device"):
        RunLock.acquire(tmp_path, "NIGHTLY", DATE, "run-1")
    monkeypatch.undo()
    with RunLock.acquire(tmp_path, "NIGHTLY", DATE, "run-2") as lock:  # the lock was let go
        assert lock.held


@pytest.fixture
def read_only_state(tmp_path: Path) -> Iterator[Path]:
    """A state dir with one finished run, then remounted read-only (root only)."""
    with small_tmpfs(tmp_path / "ro", "2m") as state:
        result = simulated_run(tmp_path, "--state-dir", str(state))
        assert result.returncode == 0, result.stdout + result.stderr
        subprocess.run(["mount", "-o", "remount,ro", str(state)], check=True)
        yield state


def test_status_and_logs_work_on_a_read_only_state_dir(
    tmp_path: Path, read_only_state: Path
) -> None:
    listed = amtflow("status", "--state-dir", read_only_state, "--format", "json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert '"ok"' in listed.stdout
    run_id = listed.stdout.split('"run_id": "')[1].split('"')[0]
    detail = amtflow("status", run_id, "--state-dir", read_only_state, cwd=tmp_path)
    assert detail.returncode == 0 and "ONE" in detail.stdout, detail.stderr
    logs = amtflow("logs", run_id, "--state-dir", read_only_state, cwd=tmp_path)
    assert logs.returncode == 0 and "Job Log" in logs.stdout, logs.stderr


def test_reports_work_on_a_read_only_state_dir(tmp_path: Path, read_only_state: Path) -> None:
    """`amtflow report` only reads the journal, as status and logs do: a state dir copied off a
    pod's volume or mounted read-only for an auditor still gives its pictures."""
    listed = amtflow("status", "--state-dir", read_only_state, "--format", "json", cwd=tmp_path)
    run_id = listed.stdout.split('"run_id": "')[1].split('"')[0]
    page = tmp_path / "run.html"
    run = amtflow("report", run_id, "--state-dir", read_only_state, "--html", page, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run_id in page.read_text()
    history = tmp_path / "history.html"
    shown = amtflow(
        "report",
        "--schedule",
        "NIGHTLY",
        "--state-dir",
        read_only_state,
        "--html",
        history,
        cwd=tmp_path,
    )
    assert shown.returncode == 0, shown.stderr
    assert run_id in history.read_text()


def test_a_run_on_a_read_only_state_dir_says_so(tmp_path: Path, read_only_state: Path) -> None:
    """A PVC mounted readOnly, a backup mounted to look at: the one line says what is wrong
    (it said "not a usable amtflow journal: unable to open database file")."""
    result = simulated_run(tmp_path, "--state-dir", str(read_only_state), "--date", "2026-11-25")
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"amtflow: error: state dir {read_only_state} is read-only"), line
    assert "not a usable" not in line


def test_json_and_junit_files_are_private_under_umask_000(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    definitions = write_definitions(tmp_path, "http://127.0.0.1:1", JOBS)
    monkeypatch.chdir(tmp_path)
    old = os.umask(0)
    try:
        args = ["run", str(definitions), "--simulate", "--date", DAY]
        result = CliRunner().invoke(cli, [*args, "--json", "r.json", "--junit", "r.xml"])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert mode(tmp_path / "r.json") == 0o600 and mode(tmp_path / "r.xml") == 0o600
    assert (tmp_path / "r.xml").read_text().startswith("<?xml")


@pytest.mark.parametrize("name", ["journal.db", "journal.db-wal"])
def test_a_journal_others_can_write_is_refused_before_any_server_is_reached(
    tmp_path: Path, start_simulator: Any, name: str
) -> None:
    """Resume, rerun, kill and abandon reach the servers the journal recorded, with the batch
    user's password: a journal someone else may have written to is refused, not trusted."""
    live = start_simulator({"default": {"duration": 0.05}, "jobs": {"ONE": {"end_code": 11}}})
    definitions = write_definitions(tmp_path, live.url, JOBS)
    state = tmp_path / "state"
    ran = amtflow("run", definitions, "--date", DAY, "--state-dir", state, cwd=tmp_path)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    run_id = next(
        line.split()[1].strip(":") for line in ran.stdout.splitlines() if line.startswith("run ")
    )
    target = state / name
    target.touch()
    target.chmod(0o666)
    received = len(live.simulator.record)
    for command in (("rerun", run_id), ("run", definitions, "--date", DAY, "--again")):
        refused = amtflow(*command, "--state-dir", state, cwd=tmp_path)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert refused.stderr == (
            f"amtflow: error: journal {target} can be written by group or others (mode 666): "
            f"make it private with: chmod go-w {target}\n"
        )
    assert len(live.simulator.record) == received  # not even a logon
    assert mode(target) == 0o666  # left for the user to look at, not silently "fixed"
    target.chmod(0o600)
    again = amtflow("rerun", run_id, "--state-dir", state, cwd=tmp_path)
    assert again.returncode == 1 and "ONE" in again.stdout, again.stdout + again.stderr
    assert live.simulator.record.starts_by_job() == {"ONE": 2}
