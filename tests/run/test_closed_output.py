"""A closed pipe or a hung-up terminal stops amtflow's output, never its run.

Each test starts the real CLI in a subprocess against the real simulator, takes its output away
part-way (a pipe closed after one line, both pipes closed, a terminal hung up with SIGHUP) and
checks the run went on to its end: every Start received, every log complete, the journal and the
``--json`` summary finished as a normal run's, the exit status the run's own.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.run.conftest import PASSWORD, LiveSimulator, amtflow, write_definitions

DATE = "2026-11-24"

# A chain, so that the run still has jobs to start, and lines to print, after the output is gone.
JOBS = [
    {"name": "FIRST", "task": "batch_job", "job_name": "FIRST"},
    {"name": "SECOND", "task": "batch_job", "job_name": "SECOND", "depends_on": ["FIRST"]},
    {"name": "THIRD", "task": "batch_job", "job_name": "THIRD", "depends_on": ["SECOND"]},
]
OK_SCENARIO = {"default": {"duration": 0.4}}
FAILED_SCENARIO = {"default": {"duration": 0.4}, "jobs": {"THIRD": {"end_code": 11}}}


def _run(tmp_path: Path, url: str, *options: str) -> list[str]:
    """``amtflow run`` of the chain at ``url``, with a ``--json`` summary."""
    schedule = write_definitions(tmp_path, url, JOBS)
    return [
        "run",
        str(schedule),
        "--date",
        DATE,
        *options,
        "--log-dir",
        str(tmp_path / "logs"),
        "--json",
        str(tmp_path / "summary.json"),
    ]


def _start(
    tmp_path: Path, command: list[str], *, stdout: Any, stderr: Any
) -> subprocess.Popen[bytes]:
    """The real CLI running ``command``, its output where asked."""
    return subprocess.Popen(
        [sys.executable, "-m", "amtflow", *command, "--state-dir", str(tmp_path / "state")],
        cwd=tmp_path,
        env={**os.environ, "AMT_TEST_PASSWORD": PASSWORD},
        stdout=stdout,
        stderr=stderr,
    )


def _read_one_line_and_close(process: subprocess.Popen[bytes]) -> None:
    """What ``| head -1`` does: read the first line, then go away."""
    assert process.stdout is not None
    assert process.stdout.readline()
    process.stdout.close()


def _journal_state(tmp_path: Path) -> tuple[str, str]:
    """The (run id, state) of the only run the journal holds, as ``amtflow status`` shows it."""
    shown = amtflow("status", "--state-dir", tmp_path / "state", "--format", "json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    (run,) = json.loads(shown.stdout)["runs"]
    return run["run_id"], run["state"]


def _wait_for_start(live: LiveSimulator) -> None:
    deadline = time.monotonic() + 120  # a deadline, not a wait: slow only when broken
    while not live.simulator.record.starts_by_job() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live.simulator.record.starts_by_job(), "the run never started a job"


def _assert_run_ended(tmp_path: Path, live: LiveSimulator, state: str, status: int) -> None:
    """Every job started once and logged to its end; journal and summary say ``state``."""
    assert live.simulator.record.starts_by_job() == {"FIRST": 1, "SECOND": 1, "THIRD": 1}
    _assert_logs_complete(tmp_path, state)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (summary["state"], summary["exit_status"]) == (state, status)
    assert _journal_state(tmp_path) == (summary["run_id"], state)


def _assert_logs_complete(tmp_path: Path, state: str) -> None:
    logs = list((tmp_path / "logs").rglob("*.log"))
    assert {log.name.split(".")[0] for log in logs} == {"FIRST", "SECOND", "THIRD"}
    for log in logs:
        code = "ERROR" if state == "failed" and log.name.startswith("THIRD.") else "DONE"
        assert f"Completion Code : {code}" in log.read_text(), log.name


@pytest.mark.parametrize(
    ("scenario", "state", "status"), [(OK_SCENARIO, "ok", 0), (FAILED_SCENARIO, "failed", 1)]
)
def test_stdout_closed_after_one_line(
    tmp_path: Path, start_simulator: Any, scenario: dict[str, Any], state: str, status: int
) -> None:
    """``amtflow run | head -1``: the reader goes away after the first line."""
    live = start_simulator(scenario, users={"OPCONAPI": PASSWORD})
    with (tmp_path / "stderr.txt").open("wb") as errors:
        process = _start(
            tmp_path, _run(tmp_path, live.url, "--plain"), stdout=subprocess.PIPE, stderr=errors
        )
        _read_one_line_and_close(process)
        assert process.wait(timeout=60) == status
    _assert_run_ended(tmp_path, live, state, status)
    assert (tmp_path / "stderr.txt").read_text() == ""  # no traceback, no "Exception ignored"


def test_stdout_and_stderr_both_closed(tmp_path: Path, start_simulator: Any) -> None:
    """Nobody reads anything the runner writes, on either stream, from the start."""
    live = start_simulator(FAILED_SCENARIO, users={"OPCONAPI": PASSWORD})
    read_out, write_out = os.pipe()
    read_err, write_err = os.pipe()
    os.close(read_out)
    os.close(read_err)
    process = _start(
        tmp_path, _run(tmp_path, live.url, "--plain"), stdout=write_out, stderr=write_err
    )
    os.close(write_out)
    os.close(write_err)
    assert process.wait(timeout=60) == 1  # not 120: Python's flush at exit did not fail either
    _assert_run_ended(tmp_path, live, "failed", 1)


def test_stdout_on_a_full_disk(tmp_path: Path, start_simulator: Any) -> None:
    """``amtflow run > run.txt`` on a full disk (``/dev/full``: every write is ENOSPC)."""
    live = start_simulator(OK_SCENARIO, users={"OPCONAPI": PASSWORD})
    with open("/dev/full", "wb") as full, (tmp_path / "stderr.txt").open("wb") as errors:
        process = _start(tmp_path, _run(tmp_path, live.url, "--plain"), stdout=full, stderr=errors)
        assert process.wait(timeout=60) == 0
    _assert_run_ended(tmp_path, live, "ok", 0)
    assert (tmp_path / "stderr.txt").read_text() == ""


def test_terminal_hung_up_mid_run(tmp_path: Path, start_simulator: Any) -> None:
    """An ssh session drops: SIGHUP, and the terminal (live view) answers every write with EIO."""
    live = start_simulator(FAILED_SCENARIO, users={"OPCONAPI": PASSWORD})
    terminal, side = pty.openpty()
    process = _start(tmp_path, _run(tmp_path, live.url), stdout=side, stderr=side)
    os.close(side)
    assert os.read(terminal, 100)  # the live view is drawing
    _wait_for_start(live)
    process.send_signal(signal.SIGHUP)
    os.close(terminal)  # hung up: writes to the terminal now fail
    assert process.wait(timeout=60) == 1
    _assert_run_ended(tmp_path, live, "failed", 1)


def test_rerun_into_a_closed_pipe(tmp_path: Path, start_simulator: Any) -> None:
    """``amtflow rerun RUN THIRD | head -1`` carries out the rerun all the same."""
    live = start_simulator(FAILED_SCENARIO, users={"OPCONAPI": PASSWORD})
    command = _run(tmp_path, live.url, "--plain")
    first = _start(tmp_path, command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert first.wait(timeout=60) == 1
    run_id = json.loads((tmp_path / "summary.json").read_text())["run_id"]
    with (tmp_path / "stderr.txt").open("wb") as errors:
        process = _start(
            tmp_path, ["rerun", run_id, "THIRD", "--plain"], stdout=subprocess.PIPE, stderr=errors
        )
        _read_one_line_and_close(process)
        assert process.wait(timeout=60) == 1
    assert live.simulator.record.starts_by_job() == {"FIRST": 1, "SECOND": 1, "THIRD": 2}
    thirds = list((tmp_path / "logs").rglob("THIRD.*.log"))
    assert len(thirds) == 2
    assert all("Completion Code : ERROR" in log.read_text() for log in thirds)
    assert _journal_state(tmp_path) == (run_id, "failed")
    assert (tmp_path / "stderr.txt").read_text() == ""


def test_resume_into_a_closed_pipe(tmp_path: Path, start_simulator: Any) -> None:
    """A runner killed mid-run, then ``amtflow resume RUN | head -1``: the run ends all the same."""
    live = start_simulator(OK_SCENARIO, users={"OPCONAPI": PASSWORD})
    command = _run(tmp_path, live.url, "--plain")
    crashed = _start(tmp_path, command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_start(live)
    crashed.kill()
    crashed.wait(timeout=30)
    run_id, state = _journal_state(tmp_path)
    assert state == "running"  # stale: its runner is gone
    with (tmp_path / "stderr.txt").open("wb") as errors:
        process = _start(
            tmp_path, ["resume", run_id, "--plain"], stdout=subprocess.PIPE, stderr=errors
        )
        _read_one_line_and_close(process)
        assert process.wait(timeout=60) == 0
    assert live.simulator.record.starts_by_job() == {"FIRST": 1, "SECOND": 1, "THIRD": 1}
    _assert_logs_complete(tmp_path, "ok")
    assert _journal_state(tmp_path) == (run_id, "ok")
    assert (tmp_path / "stderr.txt").read_text() == ""
