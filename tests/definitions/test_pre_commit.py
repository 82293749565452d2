"""The repository works as a pre-commit hook source: the real pre-commit tool runs amtflow-validate.

pre-commit builds the hook's own environment with pip. In CI's oldest-versions environment
(``.ci/run`` installs it with ``--constraint .ci/oldest.txt``) that environment is built with the
same constraints, so that the hook is tested on the lower bounds too, not on whatever is newest.
"""

from __future__ import annotations

import importlib.metadata
import re
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
OLDEST = REPO / ".ci" / "oldest.txt"
RUNTIME = ("pyyaml", "jsonschema", "click", "aiohttp", "rich", "tzdata", "apprise")  # pyproject
INVALID = (DATA / "invalid" / "unknown_key_misspelt.yaml").read_text()


def oldest_pins() -> dict[str, str]:
    """The ``name==version`` lines of ``.ci/oldest.txt``, by normalised name."""
    pins = re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", OLDEST.read_text(), re.MULTILINE)
    return {_normalised(name): version for name, version in pins}


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def running_oldest() -> bool:
    """This environment is CI's oldest one: every package .ci/oldest.txt pins is at its pin."""
    pins = oldest_pins()
    return bool(pins) and all(_installed(name) == version for name, version in pins.items())


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


def commit_project(tmp_path: Path, hook: tuple[Path, str], files: dict[str, str]) -> Path:
    """A definitions repository using the hook, with ``files`` committed."""
    repo, rev = hook
    project = tmp_path / "project"
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    config = f"repos:\n  - repo: {repo}\n    rev: {rev}\n    hooks:\n      - id: amtflow-validate\n"
    (project / ".pre-commit-config.yaml").write_text(config)
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "--no-verify", "-m", "definitions")
    return project


def pre_commit(project: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real pre-commit tool, as ``git commit`` would start it, or with ``args``."""
    tool = shutil.which("pre-commit")
    assert tool, "pre-commit is not installed"
    env = {
        "PRE_COMMIT_HOME": str(home),
        "PATH": str(Path(tool).parent) + ":/usr/bin:/bin",
        "HOME": str(home),
    }
    if running_oldest():  # the hook's environment gets the same lower bounds as this one
        env["PIP_CONSTRAINT"] = str(OLDEST)
    return subprocess.run(
        [tool, "run", *args], cwd=project, capture_output=True, text=True, env=env, timeout=600
    )


OTHER_YAML = {  # not definitions: the hook must not flag them
    ".github/workflows/ci.yml": "on: push\njobs: {build: {runs-on: ubuntu-latest}}\n",
    "docs/mkdocs.yml": "site_name: jobs\nnav: [index.md]\n",
}


def test_hook_passes_valid_definitions(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path
) -> None:
    files = {"amtflow.yaml": "definitions: [jobs]\n", "jobs/amt.yaml": VALID, **OTHER_YAML}
    result = pre_commit(commit_project(tmp_path, hook_repo, files), pre_commit_home, "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "amtflow validate" in result.stdout and "Passed" in result.stdout


def test_hook_fails_invalid_definitions(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path
) -> None:
    files = {"amtflow.yaml": "definitions: [jobs]\n", "jobs/amt.yaml": INVALID}
    result = pre_commit(commit_project(tmp_path, hook_repo, files), pre_commit_home, "--all-files")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Failed" in result.stdout
    assert "jobs/amt.yaml:18:9: error: unknown key 'job_nmae'" in result.stdout


def test_hook_sees_a_rename_in_common_break_the_schedules(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path
) -> None:
    """Issue 17: only common/amt.yaml changes; the schedule that still names the agent breaks."""
    files = {
        f"definitions/{path.relative_to(REPO / 'definitions')}": path.read_text()
        for path in (REPO / "definitions").rglob("*.yaml")
    }
    project = commit_project(tmp_path, hook_repo, {**files, **OTHER_YAML})
    common = project / "definitions" / "common" / "amt.yaml"
    common.write_text(common.read_text().replace("name: amt-demo", "name: amt-prod"))
    git(project, "add", "definitions/common/amt.yaml")
    assert git(project, "diff", "--cached", "--name-only") == "definitions/common/amt.yaml"

    result = pre_commit(project, pre_commit_home)  # what `git commit` runs: the staged files
    assert result.returncode == 1, result.stdout + result.stderr
    assert "definitions/nightly.yaml:" in result.stdout
    assert "unknown agent 'amt-demo' (did you mean 'amt-prod'?)" in result.stdout
    assert "ci.yml" not in result.stdout and "mkdocs.yml" not in result.stdout


def test_the_hook_environment_is_built_with_the_constraints_of_this_one(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path
) -> None:
    """In the oldest environment the hook runs on the oldest runtime dependencies; elsewhere it is
    not held to them (pip takes the newest, as a user's pre-commit does)."""
    files = {"amtflow.yaml": "definitions: [jobs]\n", "jobs/amt.yaml": VALID}
    result = pre_commit(commit_project(tmp_path, hook_repo, files), pre_commit_home, "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    (python,) = pre_commit_home.glob("repo*/py_env-*/bin/python")
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    hook = {_normalised(n): v for n, v in re.findall(r"^(\S+)==(\S+)$", listed, re.MULTILINE)}
    pins = oldest_pins()
    at_pins = {name: hook.get(name) == pins[name] for name in RUNTIME}
    if running_oldest():
        assert all(at_pins.values()), (hook, pins)
    else:
        assert not all(at_pins.values()), (hook, pins)


def test_readme_shows_no_rev_that_does_not_exist() -> None:
    """amtflow has no release tag: the README's rev is a commit looked up where it is used."""
    readme = (REPO / "README.md").read_text()
    revs = [line.strip() for line in readme.splitlines() if line.strip().startswith("rev:")]
    assert revs == ["rev: $rev"]
    assert 'rev=$(git ls-remote "$url" HEAD | cut -f1)' in readme
