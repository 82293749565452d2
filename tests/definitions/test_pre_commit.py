"""The repository works as a pre-commit hook source: the real pre-commit tool runs amtflow-validate."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import DATA, REPO

GIT = [
    "git",
    "-c",
    "user.name=amtflow-test",
    "-c",
    "user.email=test@example.invalid",
    "-c",
    "commit.gpgsign=false",
]
VALID = (REPO / "definitions" / "common" / "amt.yaml").read_text()
INVALID = (DATA / "invalid" / "unknown_key_misspelt.yaml").read_text()


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        [*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A committed copy of this working tree, as pre-commit wants a hook repository."""
    copy = tmp_path_factory.mktemp("hook") / "amtflow"
    ignore = shutil.ignore_patterns(
        ".git",
        "__pycache__",
        "*.egg-info",
        ".amtflow",
        ".pytest_cache",
        "tests",
        ".venv",
        "venv",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        "build",
        "dist",
    )
    shutil.copytree(REPO, copy, ignore=ignore)
    git(copy, "init", "-q")
    git(copy, "add", "-A")
    git(copy, "commit", "-q", "-m", "snapshot")
    return copy, git(copy, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def run_hook(
    tmp_path: Path, hook: tuple[Path, str], home: Path, definition: str
) -> subprocess.CompletedProcess[str]:
    repo, rev = hook
    project = tmp_path / "project"
    (project / "jobs").mkdir(parents=True)
    (project / "jobs" / "amt.yaml").write_text(definition)
    config = f"repos:\n  - repo: {repo}\n    rev: {rev}\n    hooks:\n      - id: amtflow-validate\n"
    (project / ".pre-commit-config.yaml").write_text(config)
    git(project, "init", "-q")
    git(project, "add", "-A")
    pre_commit = shutil.which("pre-commit")
    assert pre_commit, "pre-commit is not installed"
    env = {
        "PRE_COMMIT_HOME": str(home),
        "PATH": str(Path(pre_commit).parent) + ":/usr/bin:/bin",
        "HOME": str(home),
    }
    return subprocess.run(
        [pre_commit, "run", "--all-files"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_hook_passes_valid_definitions(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path
) -> None:
    result = run_hook(tmp_path, hook_repo, pre_commit_home, VALID)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "amtflow validate" in result.stdout and "Passed" in result.stdout


def test_hook_fails_invalid_definitions(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path
) -> None:
    result = run_hook(tmp_path, hook_repo, pre_commit_home, INVALID)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Failed" in result.stdout
    assert "jobs/amt.yaml:18:9: error: unknown key 'job_nmae'" in result.stdout
