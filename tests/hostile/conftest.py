from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "data" / "hostile"


@dataclass(frozen=True)
class Outcome:
    """What one forked ``amtflow`` run did."""

    status: object
    stdout: str
    stderr: str
    seconds: float
    cpu_seconds: float
    rss_mb: float
    stdout_bytes: int = 0
    stderr_bytes: int = 0

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Harness:
    """Talks to ``tests.hostile.harness`` running in its own process."""

    def __init__(self) -> None:
        env = {**os.environ, "COLUMNS": "400", "NO_COLOR": "1", "TERM": "dumb"}
        env.pop("AMTFLOW_TRACEBACK", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.hostile.harness"],
            cwd=REPO,
            env=env,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.figures: list[tuple[str, float, float, float]] = []

    def amtflow(self, *argv: str, cwd: Path, label: str = "") -> Outcome:
        """Run ``amtflow argv...`` in ``cwd`` in a fresh fork; record its time and memory."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"argv": list(argv), "cwd": str(cwd)}) + "\n")
        self.process.stdin.flush()
        outcome = Outcome(**json.loads(self.process.stdout.readline()))
        label = label or " ".join(argv)[:60]
        self.figures.append((label, outcome.seconds, outcome.cpu_seconds, outcome.rss_mb))
        return outcome

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=60)  # it ends at once; a loaded machine may take seconds


Tree = dict[str, tuple[int, int]]


def tree(folder: Path) -> Tree:
    """Every entry below ``folder`` (not following symlinks): size and mtime, to spot any write."""
    found: Tree = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            info = os.lstat(os.path.join(dirpath, name))
            found[os.path.relpath(os.path.join(dirpath, name), folder)] = (
                info.st_size,
                info.st_mtime_ns,
            )
    return found


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty folder that is a repository root (includes must stay inside it)."""
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    return tmp_path / "repo"


@pytest.fixture(scope="session")
def harness() -> Iterator[Harness]:
    started = Harness()
    yield started
    started.close()
    _print_figures(started.figures)


def _print_figures(figures: list[tuple[str, float, float, float]]) -> None:
    if not figures:
        return
    slowest = max(figures, key=lambda f: f[1])
    busiest = max(figures, key=lambda f: f[2])
    hungriest = max(figures, key=lambda f: f[3])
    print(
        f"\nhostile inputs run: {len(figures)}; slowest {slowest[1]:.3f} s wall ({slowest[0]}); "
        f"most CPU {busiest[2]:.3f} s ({busiest[0]}); "
        f"highest memory +{hungriest[3]:.1f} MB ({hungriest[0]})"
    )
