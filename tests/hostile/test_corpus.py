"""Hostile definitions: each one ends in a clear error, exit 2, fast, small, and writes nothing.

The committed corpus (tests/data/hostile, each file naming its error on its first line) holds
the small files; the big, binary and file-system cases are built at test time (generated.py).
Each runs as ``amtflow validate FILE`` in a forked child that reports its own time and memory.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from .conftest import CORPUS, Harness, Outcome, tree
from .generated import GENERATED, Generated

COMMITTED = sorted(CORPUS.glob("*.yaml"))
EXPECT = re.compile(r"# expect: (?P<line>\d+): (?P<fragment>.+)")
# A bomb detector, not a benchmark (the figures are printed at the end): CPU seconds the child
# spent, which a loaded machine does not inflate as it does wall time. A child blocked on
# something is killed by the harness's wall-clock alarm (HANG_SECONDS) and fails as a hang.
MAX_CPU_SECONDS = 5.0
MAX_RSS_MB = 200.0
MAX_OUTPUT_BYTES = 64 * 1024  # a 1 MB key must not come back in full


def test_the_corpus_is_large_enough() -> None:
    assert len(COMMITTED) + len(GENERATED) >= 100
    assert all(path.stat().st_size < 16 * 1024 for path in COMMITTED)


def assert_clean_failure(outcome: Outcome) -> None:
    """Exit 2, no traceback, a bounded output, in time and memory."""
    assert outcome.status == 2, outcome.output
    assert "Traceback" not in outcome.output and "internal error" not in outcome.output
    assert outcome.stdout_bytes + outcome.stderr_bytes < MAX_OUTPUT_BYTES
    assert outcome.cpu_seconds < MAX_CPU_SECONDS and outcome.rss_mb < MAX_RSS_MB, outcome


def error_lines(outcome: Outcome) -> list[str]:
    return [
        line
        for line in outcome.output.splitlines()
        if ": error: " in line or line.startswith("amtflow: error: ")
    ]


@pytest.mark.parametrize("source", COMMITTED, ids=lambda p: p.stem)
def test_committed_hostile_file(harness: Harness, repo: Path, source: Path) -> None:
    match = EXPECT.match(source.read_text(encoding="utf-8").splitlines()[0])
    assert match, f"{source.name} has no '# expect: LINE: message' first line"
    path = repo / source.name
    shutil.copyfile(source, path)
    before = tree(repo.parent)
    outcome = harness.amtflow("validate", path.name, cwd=repo, label=source.stem)
    assert_clean_failure(outcome)
    wanted = f"{source.name}:{match['line']}:"
    assert any(
        line.startswith(wanted) and match["fragment"] in line for line in error_lines(outcome)
    ), f"expected {wanted} ... {match['fragment']!r} in:\n{outcome.output[:3000]}"
    assert tree(repo.parent) == before


@pytest.mark.parametrize("case", GENERATED, ids=str)
def test_generated_hostile_input(harness: Harness, repo: Path, case: Generated) -> None:
    if case.name == "root_unreadable" and os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = case.build(repo)
    before = tree(repo.parent)
    outcome = harness.amtflow("validate", str(path), cwd=repo, label=case.name)
    assert_clean_failure(outcome)
    assert any(case.expect in line for line in error_lines(outcome)), outcome.output[:3000]
    assert tree(repo.parent) == before
    _unblock(repo)


def _unblock(repo: Path) -> None:
    """Make every file removable again (one case chmods its file to 0)."""
    for path in repo.iterdir():
        if not path.is_symlink() and path.is_file():
            path.chmod(0o600)
