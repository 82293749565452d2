"""Scenario files and the ``amtflow simulator`` command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from amtflow.errors import UsageError
from amtflow.simulator import Scenario


def test_scenario_loads_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "version: 9.9\n"
        "jobs:\n"
        "  REPORTTEST01: {duration: 30, queued: 1, end_code: 11, ignores_kill: true,\n"
        "                 messages: [a, {at: 2, text: b}], children: [{name: C, at: 5}]}\n"
    )
    scenario = Scenario.load(path)
    script = scenario.script_for("REPORTTEST01")
    assert (script.duration, script.queued, script.end_code, script.ignores_kill) == (
        30,
        1,
        11,
        True,
    )
    assert [m.text for m in script.messages or ()] == ["a", "b"]
    assert script.children[0].name == "C"
    assert scenario.script_for("OTHER").duration == 0.2
    assert scenario.version == "9.9"


def test_scenario_is_read_as_yaml_1_2_like_definitions(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("jobs:\n  NO: {end_code: 11}\n  on: {duration: 1, missing: true}\n")
    scenario = Scenario.load(path)
    assert scenario.script_for("NO").end_code == 11  # a job called NO, not the boolean false
    assert scenario.script_for("on").missing is True
    assert scenario.script_for("False").end_code == 4


@pytest.mark.parametrize(
    "text, expected",
    [
        ("jobs: {X: {duraton: 1}}", "job X: unknown key\\(s\\) duraton"),
        ("jobs: {X: {duration: -1}}", "duration must be a number >= 0"),
        ("jobs: {X: {end_code: DONE}}", "end_code must be a completion code"),
        ("jobs: [1, 2]", "'jobs' is a mapping"),
        ("jobs: {X: [unclosed", r"bad.yaml:\d+:\d+: YAML syntax"),
        ("jobs: {X: {ignores_kill: yes}}", "ignores_kill must be true or false"),
    ],
)
def test_bad_scenarios_are_usage_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UsageError, match=expected) as caught:
        Scenario.load(path)
    assert str(path) in str(caught.value)


def test_simulator_command_serves_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("version: 1.2.3\n")
    # Ctrl-C comes from a terminal, to a command in its foreground. A test run started in the
    # background by a non-interactive shell (nohup, `&`, some CI runners) ignores SIGINT, and an
    # ignored signal stays ignored in every child: the simulator would never hear it. A handler
    # (unlike SIG_IGN) is reset to the default in the child, as in a terminal.
    ignored = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "amtflow",
                "simulator",
                "--port",
                "0",
                "--scenario",
                str(scenario),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        signal.signal(signal.SIGINT, ignored)
    try:
        line = process.stdout.readline() if process.stdout else ""
        url = line.split(" on ")[1].split()[0]
        with urllib.request.urlopen(f"{url}/api/status", timeout=5) as answer:
            assert json.load(answer) == {"version": "1.2.3", "batchServer": "RUNNING"}
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)  # it stops at once: 2-3 s under load 16
    finally:
        process.kill()
    assert process.returncode == 0
    assert "Traceback" not in err and "simulator stopped" in err


def test_simulator_command_with_a_busy_port_is_a_clear_error() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "amtflow", "simulator", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=20,
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("kind", ["fifo", "dev_zero"])
def test_a_scenario_that_is_a_fifo_or_a_device_is_one_clear_error(
    tmp_path: Path, kind: str
) -> None:
    """Opened blindly, a FIFO nobody writes to hangs the command, and /dev/zero never ends."""
    scenario = tmp_path / "scenario.yaml"
    if kind == "fifo":
        os.mkfifo(scenario)
    else:
        scenario.symlink_to("/dev/zero")
    result = subprocess.run(
        [sys.executable, "-m", "amtflow", "simulator", "--port", "0", "--scenario", str(scenario)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"amtflow: error: scenario {scenario}:1:1: cannot read file: it is not a regular file "
        "(a FIFO, socket or device)"
    )
