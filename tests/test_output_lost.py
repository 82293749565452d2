"""A command whose product is its output (``status --format json > status.json``, ``export cron >
crontab.txt``, ``plan --format json``, ``validate``) fails when that output cannot be written: a
full disk (``/dev/full``: every write is ENOSPC) is one ``amtflow: error:`` line and a non-zero
exit, never an exit 0 over an empty or cut file that a script then installs or reads.

A reader that goes away on purpose (``| head -1``) is not a failure; and a run's exit status
stays the run's own whatever became of its terminal output (tests/run/test_closed_output.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCHEDULE = REPO / "definitions" / "nightly.yaml"
EXPORTABLE = """\
version: 1
batch_users: [{name: u, identifier: U, password: {env: P}}]
agents: [{name: a, batch_server_url: "http://h:42000", batch_user: u}]
schedules:
  - name: NIGHTLY
    start_time: "02:00"
    defaults: {agent: a, application: APP}
    jobs: [{name: J, task: batch_job, job_name: J}]
"""
INVALID = "version: 1\nbogus: 1\n"


def amtflow_into(stdout: int, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "amtflow", *map(str, args)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        timeout=60,
    )


COMMANDS = {
    "status_json": (("status", "--format", "json"), 0),
    "plan_json": (("plan", SCHEDULE, "--date", "2026-11-24", "--format", "json"), 0),
    "export_cron": (("export", "cron", "schedule.yaml"), 0),
    "schema": (("schema",), 0),
    "validate": (("validate", SCHEDULE), 0),
    "validate_invalid": (("validate", "invalid.yaml"), 2),  # its own failure is kept
    "version": (("--version",), 0),  # written by click itself
    "help": (("run", "--help"), 0),
}


@pytest.mark.parametrize("name", COMMANDS)
def test_output_on_a_full_disk_is_an_error(tmp_path: Path, name: str) -> None:
    args, status_when_written = COMMANDS[name]
    (tmp_path / "schedule.yaml").write_text(EXPORTABLE)
    (tmp_path / "invalid.yaml").write_text(INVALID)
    written = amtflow_into(subprocess.PIPE, *args, cwd=tmp_path)
    assert written.returncode == status_when_written and written.stdout, written.stderr

    with open("/dev/full", "wb") as full:
        result = amtflow_into(full.fileno(), *args, cwd=tmp_path)
    assert result.returncode == (status_when_written or 1), result.stderr
    assert result.stderr.splitlines()[-1] == (
        "amtflow: error: cannot write the output: No space left on device"
    ), result.stderr
    assert "Traceback" not in result.stderr


def test_a_reader_that_goes_away_is_not_an_error(tmp_path: Path) -> None:
    """``amtflow schema | head -1``: the rest is not wanted; exit 0, nothing on stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "amtflow", "schema"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()
    assert process.wait(timeout=60) == 0
    assert process.stderr.read() == b""
