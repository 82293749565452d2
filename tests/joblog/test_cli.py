from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from amtflow.cli import cli, main
from tests.joblog import test_retention


def make_log(log_dir: Path, age_days: float, **options: Any) -> Path:
    """A log aged against the real clock: the CLI purges as of now."""
    now = dt.datetime.now(dt.timezone.utc)
    return test_retention.make_log(log_dir, age_days, now=now, **options)


DEFINITIONS = """\
version: 1
batch_users:
  - name: amt-api
    identifier: OPCONAPI
    password: {env: AMT_API_PASSWORD}
agents:
  - name: amt-demo
    type: AsyscoAMT
    batch_server_url: http://127.0.0.1:42000
    batch_user: amt-api
    retain_log_files: 30
  - name: amt-short
    type: AsyscoAMT
    batch_server_url: http://127.0.0.1:42001
    batch_user: amt-api
    retain_log_files: 7
"""


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AMTFLOW_LOG_DIR", raising=False)
    (tmp_path / "definitions").mkdir()
    (tmp_path / "definitions" / "agents.yaml").write_text(DEFINITIONS)
    return tmp_path


def purge(*args: str) -> tuple[int, str]:
    """Run ``amtflow logs purge`` through CliRunner; the command's exit status and output."""
    result = CliRunner().invoke(cli, ["logs", "purge", *args], standalone_mode=False)
    assert result.exception is None, result.output
    return result.return_value, result.output


def test_purge_removes_old_logs_per_agent_and_lists_them(project: Path) -> None:
    log_dir = project / ".amtflow" / "logs"
    old = make_log(log_dir, 10, agent="amt-short", job="OLD", request=1)
    kept = make_log(log_dir, 10, agent="amt-demo", job="KEPT", request=2)
    status, output = purge()
    assert status == 0
    assert not old.exists() and kept.exists()
    assert "removed NIGHTLY/2026-03-01/OLD.1.log" in output
    assert "removed 1 log file from .amtflow/logs; kept 1 log file" in output


def test_dry_run_says_what_would_go_and_removes_nothing(project: Path) -> None:
    old = make_log(project / "logs", 40, job="OLD")
    status, output = purge("--dry-run", "--log-dir", "logs")
    assert status == 0 and old.exists()
    assert output.splitlines() == [
        "would remove NIGHTLY/2026-03-01/OLD.1.log",
        "would remove NIGHTLY/2026-03-01/",
        "would remove NIGHTLY/",
        "would remove 1 log file and 2 empty folders from logs; kept 0 log files",
    ]


def test_log_dir_comes_from_the_environment(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = make_log(project / "elsewhere", 40)
    monkeypatch.setenv("AMTFLOW_LOG_DIR", str(project / "elsewhere"))
    assert purge()[0] == 0
    assert not old.exists()


def test_definitions_paths_can_be_given(project: Path) -> None:
    (project / "definitions").rename(project / "defs")
    old = make_log(project / "logs", 10, agent="amt-short")
    assert purge("defs", "--log-dir", "logs")[0] == 0
    assert not old.exists()


def test_nothing_to_purge_is_fine(project: Path) -> None:
    status, output = purge("--log-dir", "no-logs-yet")
    assert status == 0
    assert "removed 0 log files from no-logs-yet; kept 0 log files" in output


def test_invalid_definitions_exit_2_with_one_message_and_remove_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = make_log(project / "logs", 400)
    bad = "agents: [{name: x, retain_log_files: soon}]\n"
    (project / "definitions" / "agents.yaml").write_text(bad)
    with pytest.raises(SystemExit) as exit_:
        main(["logs", "purge", "--log-dir", "logs"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err
    assert old.exists()


def test_missing_definitions_exit_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["logs", "purge", "nowhere", "--log-dir", "logs"])
    assert exit_.value.code == 2
    assert "nowhere" in capsys.readouterr().err


def test_a_log_that_cannot_be_removed_exits_1_with_a_warning(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old = make_log(project / "logs", 400)

    def refuse(self: Path, missing_ok: bool = False) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "unlink", refuse)
    with pytest.raises(SystemExit) as exit_:
        main(["logs", "purge", "--log-dir", "logs"])
    assert exit_.value.code == 1
    assert old.exists()
    warning = "warning: cannot remove logs/NIGHTLY/2026-03-01/A.1.log: Permission denied"
    assert warning in capsys.readouterr().err
