"""Shell completion (click's): command names, and RUN / JOB arguments from the journal.

Driven as the shell scripts that ``_AMTFLOW_COMPLETE=bash_source amtflow`` prints drive it: the
real ``amtflow`` console script with ``COMP_WORDS`` and ``COMP_CWORD`` set.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from amtflow.state import Journal

AMTFLOW = shutil.which("amtflow")
pytestmark = pytest.mark.skipif(
    AMTFLOW is None, reason="the amtflow console script is not installed"
)


def complete(words: str, cwd: Path) -> list[str]:
    """What completing the last word of ``words`` offers (bash: one ``type,value`` a line)."""
    parts = words.split(" ")
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AMTFLOW_")},
        "_AMTFLOW_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(parts) - 1),
    }
    result = subprocess.run(
        [str(AMTFLOW)], env=environment, cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if "," in line]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_script_is_printed_for_each_shell(tmp_path: Path, shell: str) -> None:
    result = subprocess.run(
        [str(AMTFLOW)],
        env={**os.environ, "_AMTFLOW_COMPLETE": f"{shell}_source"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "_AMTFLOW_COMPLETE" in result.stdout


def test_command_names_complete(tmp_path: Path) -> None:
    assert complete("amtflow sta", tmp_path) == ["status"]
    assert set(complete("amtflow re", tmp_path)) == {"resume", "rerun", "report", "release"}
    assert complete("amtflow mark", tmp_path) == ["mark-ok"]
    assert complete("amtflow logs pu", tmp_path) == ["purge"]


def recorded(state_dir: Path, schedule: str, jobs: tuple[str, ...]) -> str:
    with Journal.open(state_dir) as journal:
        run = journal.begin_run(schedule, dt.date(2026, 11, 24), definitions="d.yaml", digest="")
        for job in jobs:
            journal.new_attempt(run.run_id, job, 1, f"task-{job}")
    return run.run_id


def test_run_ids_and_job_names_complete_from_the_journal(tmp_path: Path) -> None:
    state = tmp_path / ".amtflow"
    nightly = recorded(state, "NIGHTLY", ("EXTRACT", "REPORT", "MAIL"))
    weekly = recorded(state, "WEEKLY", ("SUMMARY",))
    offered = complete("amtflow status ", tmp_path)
    assert set(offered) == {nightly, weekly}
    assert complete(f"amtflow status {nightly[:-3]}", tmp_path) == [nightly]
    assert complete(f"amtflow kill {nightly} RE", tmp_path) == ["REPORT"]
    for operator_command in ("hold", "release", "skip", "mark-ok"):
        assert complete(f"amtflow {operator_command} {nightly[:-3]}", tmp_path) == [nightly]
        assert complete(f"amtflow {operator_command} {nightly} EXTRACT MA", tmp_path) == ["MAIL"]
    assert set(complete(f"amtflow logs show {nightly} ", tmp_path)) == {"EXTRACT", "REPORT", "MAIL"}
    # the state dir given on the command line is the one read
    assert complete("amtflow status --state-dir elsewhere ", tmp_path) == []


def test_completion_offers_nothing_rather_than_an_error(tmp_path: Path) -> None:
    assert complete("amtflow status ", tmp_path) == []  # no state dir at all
    (tmp_path / ".amtflow").mkdir()
    (tmp_path / ".amtflow" / "journal.db").write_bytes(b"not a database")
    assert complete("amtflow resume ", tmp_path) == []
    assert complete("amtflow kill nope ", tmp_path) == []
