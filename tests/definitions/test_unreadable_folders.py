"""A definitions folder that holds a folder amtflow may not read: ``validate`` (a pre-commit hook,
a CI job) must not pass a tree it could only half read. It says which folder, exit 2.

Run as a user without root's right to read anything (``setpriv`` to nobody when the tests run
as root), since permissions are what an unreadable folder is about."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO

VALID = (REPO / "definitions" / "common" / "amt.yaml").read_text()
BROKEN = "version: 1\nnot_a_key: 1\n"


@pytest.fixture
def tree() -> Iterator[Path]:
    """A definitions tree that another user can reach (pytest's tmp folders are root's 0700)."""
    top = Path(tempfile.mkdtemp(prefix="amtflow-unreadable-"))
    top.chmod(0o755)
    folder = top / "definitions"
    (folder / "private").mkdir(parents=True)
    (folder / "amt.yaml").write_text(VALID)
    (folder / "private" / "broken.yaml").write_text(BROKEN)
    for path in (
        folder,
        folder / "private",
        folder / "amt.yaml",
        folder / "private" / "broken.yaml",
    ):
        path.chmod(0o755 if path.is_dir() else 0o644)
    try:
        yield folder
    finally:
        shutil.rmtree(top)


def as_another_user(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``amtflow ARGS`` as an unprivileged user: this one, or nobody when it is root."""
    command = [sys.executable, "-m", "amtflow", *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot make a folder unreadable")
        as_nobody = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        _skip_unless_importable(as_nobody)
        command = [*as_nobody, *command]
    return subprocess.run(
        command, cwd=cwd, env=_environment(), capture_output=True, text=True, timeout=60
    )


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "HOME": "/tmp"}


def _skip_unless_importable(as_nobody: list[str]) -> None:
    """Skip when nobody cannot import amtflow and its dependencies from this environment (a
    virtual environment in a private folder, such as root's home): CI's are readable."""
    probe = [*as_nobody, sys.executable, "-c", "import amtflow.cli"]
    found = subprocess.run(probe, env=_environment(), capture_output=True, text=True, timeout=60)
    if found.returncode != 0:
        last = (found.stderr.strip().splitlines() or ["?"])[-1]
        pytest.skip(f"nobody cannot import amtflow from this environment ({last})")


def test_the_tree_is_checked_whole_when_every_folder_can_be_read(tree: Path) -> None:
    result = as_another_user("validate", "definitions", cwd=tree.parent)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "broken.yaml:2:1: error: unknown key 'not_a_key'" in result.stdout


def test_an_unreadable_folder_in_the_tree_fails_validation_naming_it(tree: Path) -> None:
    (tree / "private").chmod(0o700)  # root's: nobody may not list it
    result = as_another_user("validate", "definitions", cwd=tree.parent)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == (
        "amtflow: error: cannot read folder definitions/private: Permission denied"
    ), result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreadable_top_folder_is_said_to_be_unreadable(tree: Path) -> None:
    tree.chmod(0o700)
    result = as_another_user("validate", "definitions", cwd=tree.parent)
    assert result.returncode == 2, result.stdout + result.stderr
    # click says "not readable" (8.1.0: "not executable"): the folder's own fault, not its files'
    assert "Path 'definitions' is not " in result.stderr and "no *.yaml" not in result.stderr
