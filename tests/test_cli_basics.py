from __future__ import annotations

import subprocess
import sys

from amtflow import __version__


def run_amtflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "amtflow", *args], capture_output=True, text=True, timeout=60
    )


def test_version_is_printed() -> None:
    result = run_amtflow("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_unknown_command_is_a_usage_error_without_traceback() -> None:
    result = run_amtflow("frobnicate")
    assert result.returncode == 2
    assert "No such command 'frobnicate'" in result.stderr
    assert "Traceback" not in result.stderr
