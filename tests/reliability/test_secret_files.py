"""A password file (``password: {file: ...}``) that is not a small regular file, met by an
unattended run: a FIFO nobody writes to, a device that never ends, a file of a hundred
megabytes. Each fails the run's preflight in one clear line (exit 1, as any preflight failure)
before any job starts, never a hang, a MemoryError or an internal error; and an agents check
says the same."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.run.conftest import DATE, LiveSimulator, amtflow, write_definitions

JOBS = [{"name": "J", "task": "batch_job", "job_name": "J"}]


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _device(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _huge(path: Path) -> None:
    with path.open("wb") as handle:  # sparse: 100 MB that take no room on the disk
        handle.truncate(100 * 1024 * 1024)


def _folder(path: Path) -> None:
    path.mkdir()


HOSTILE: dict[str, tuple[Callable[[Path], None], str]] = {
    "fifo": (_fifo, "cannot be read: it is not a regular file (a FIFO, socket or device)"),
    "dev_zero": (_device, "cannot be read: it is not a regular file (a FIFO, socket or device)"),
    "huge": (_huge, "is larger than 64 KiB: not a password"),
    "folder": (_folder, "cannot be read: it is a folder, not a file"),
}


@pytest.fixture
def definitions(tmp_path: Path, start_simulator: Callable[..., LiveSimulator]) -> Path:
    live = start_simulator({"default": {"duration": 0.1}})
    path = write_definitions(tmp_path, live.url, JOBS)
    text = path.read_text(encoding="utf-8").replace(
        "env: AMT_TEST_PASSWORD", f"file: {tmp_path / 'password'}"
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_password_file_stops_the_run_in_one_line_before_any_start(
    tmp_path: Path, definitions: Path, kind: str
) -> None:
    make, expected = HOSTILE[kind]
    make(tmp_path / "password")
    result = amtflow("run", definitions, "--date", DATE, "--plain", cwd=tmp_path, timeout=30)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("amtflow: error: preflight failed, no job was started"), line
    assert expected in result.stderr and "batch user 'api'" in result.stderr, result.stderr
    assert not list(tmp_path.glob(".amtflow/logs/**/*.log"))


@pytest.mark.parametrize("kind", ["fifo", "huge"])
def test_agents_check_says_the_same_of_a_hostile_password_file(
    tmp_path: Path, definitions: Path, kind: str
) -> None:
    make, expected = HOSTILE[kind]
    make(tmp_path / "password")
    result = amtflow("agents", "check", definitions, cwd=tmp_path, timeout=30)
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stdout and "FAIL amt" in result.stdout, result.stdout


def test_a_password_file_of_64_kib_is_still_read(tmp_path: Path, definitions: Path) -> None:
    (tmp_path / "password").write_text("p" * (64 * 1024 - 1) + "\n", encoding="utf-8")
    result = amtflow("agents", "check", definitions, cwd=tmp_path, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
