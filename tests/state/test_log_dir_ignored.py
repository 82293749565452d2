"""A run's log dir made on the way (``state.files.make_log_dir``): 0700, and a ``.gitignore`` of
``*`` in the folders it made up to the log dir, never in a schedule's or date's folder (retention
removes those once empty), so that a run in a definitions repo leaves ``git status`` clean."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from tests.run.conftest import PASSWORD, LiveSimulator, amtflow, write_definitions


def git_status(folder: Path) -> list[str]:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()


def run_in_repo(folder: Path, live: LiveSimulator, *extra: str) -> None:
    write_definitions(folder, live.url, [{"name": "A", "task": "batch_job", "job_name": "A"}])
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    subprocess.run(["git", "add", "nightly.yaml"], cwd=folder, check=True)
    done = amtflow("run", "nightly.yaml", "--date", "2026-11-30", "--plain", *extra, cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_run_with_its_state_elsewhere_leaves_the_default_log_dir_out_of_git(
    tmp_path: Path, start_simulator: object
) -> None:
    live: LiveSimulator = start_simulator(users={"OPCONAPI": PASSWORD})  # type: ignore[operator]
    run_in_repo(tmp_path, live, "--state-dir", str(tmp_path / "elsewhere" / "state"))
    logs = tmp_path / ".amtflow" / "logs"
    assert len(list(logs.rglob("*.log"))) == 1  # it wrote its job log there
    assert git_status(tmp_path) == ["A  nightly.yaml"]
    for folder in (tmp_path / ".amtflow", logs):
        assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert not list(logs.glob("*/**/.gitignore"))  # none in the schedule's and date's folders
    assert not (tmp_path / ".gitignore").exists()  # the repo's own folder is left alone


def test_a_log_dir_that_was_there_gets_no_gitignore(
    tmp_path: Path, start_simulator: object
) -> None:
    live: LiveSimulator = start_simulator(users={"OPCONAPI": PASSWORD})  # type: ignore[operator]
    (tmp_path / "mine").mkdir()
    run_in_repo(tmp_path, live, "--state-dir", "state", "--log-dir", "mine")
    assert list((tmp_path / "mine").rglob("*.log"))
    assert not (tmp_path / "mine" / ".gitignore").exists()
    assert any(line.startswith("?? mine/") for line in git_status(tmp_path))
