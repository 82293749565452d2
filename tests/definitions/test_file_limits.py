"""The hostile-file limits (issue 11) with the way past them for a trusted, very large schedule
(issue 16): ``AMTFLOW_MAX_YAML_NODES`` raises the node limit and the byte limit with it, up to a
ceiling. The defaults are scaled down here (the module's values are read at each load) so that
both sides of each limit are a file of a few hundred jobs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from amtflow.definitions import yamlload

from .conftest import run_cli, schedule_head

HEAD = schedule_head("BIG")
NODES_IN_HEAD = 20  # the mappings, sequences and scalars of schedule_head around the jobs
NODES_PER_JOB = 4  # the job's mapping and its three values


def schedule(tmp_path: Path, jobs: int) -> Path:
    path = tmp_path / "big.yaml"
    lines = [
        f"      - {{name: J{i:05d}, task: batch_job, job_name: J{i:05d}}}\n" for i in range(jobs)
    ]
    path.write_text(HEAD + "".join(lines))
    return path


@pytest.fixture(autouse=True)
def small_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlload, "MAX_NODES", 1000)
    monkeypatch.setattr(yamlload, "MAX_BYTES", 64 * 1024)
    monkeypatch.delenv(yamlload.NODES_ENV, raising=False)


def test_the_nodes_of_a_schedule_are_counted_as_the_limit_counts_them(tmp_path: Path) -> None:
    jobs = (1000 - NODES_IN_HEAD) // NODES_PER_JOB  # 245 jobs: 1,000 nodes, the limit
    assert run_cli("validate", str(schedule(tmp_path, jobs))).exit_code == 0
    refused = run_cli("validate", str(schedule(tmp_path, jobs + 1)))  # 1,004 nodes
    assert refused.exit_code == 2
    assert "more than 1000 YAML nodes in one file (refused)" in refused.output
    assert f"raise {yamlload.NODES_ENV}" in refused.output


def test_a_trusted_large_schedule_loads_with_the_node_limit_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = schedule(tmp_path, 2000)  # 8,020 nodes and 116,229 bytes: past both defaults
    assert "file too large" in run_cli("validate", str(path)).output
    monkeypatch.setenv(yamlload.NODES_ENV, "8020")
    assert run_cli("validate", str(path)).output.startswith("0 errors")
    monkeypatch.setenv(yamlload.NODES_ENV, "8019")  # one short: still refused, at the new limit
    refused = run_cli("validate", str(path))
    assert refused.exit_code == 2 and "more than 8019 YAML nodes" in refused.output


def test_the_byte_limit_grows_with_the_node_limit_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "long.yaml"
    path.write_text(
        HEAD + "      - {name: A, task: batch_job, job_name: '" + "x" * 200_000 + "'}\n"
    )
    monkeypatch.setenv(yamlload.NODES_ENV, "3000")  # 3,000 x 64 bytes: 192,000 < 200,000+
    too_large = run_cli("validate", str(path))
    assert too_large.exit_code == 2 and "the limit is 192000" in too_large.output
    monkeypatch.setenv(yamlload.NODES_ENV, "4000")
    assert "file too large" not in run_cli("validate", str(path)).output


@pytest.mark.parametrize("value", ["lots", "-5", "0", "1e6", "10000001", "99999999999"])
def test_a_node_limit_that_is_not_a_number_up_to_the_ceiling_is_one_clear_error(
    tmp_path: Path, value: str
) -> None:
    env = {**os.environ, yamlload.NODES_ENV: value}
    result = subprocess.run(
        [sys.executable, "-m", "amtflow", "validate", str(schedule(tmp_path, 3))],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr == (
        f"amtflow: error: {yamlload.NODES_ENV} must be a whole number of YAML nodes up to "
        f"10000000, not '{value}'\n"
    )


def test_the_real_defaults_are_the_hostile_corpus_limits() -> None:
    """What an untrusted file gets: the figures the hostile corpus is measured against."""
    assert (yamlload.MAX_NODES, yamlload.MAX_BYTES) == (1000, 64 * 1024)  # scaled here
    assert yamlload.file_limits() == (64 * 1024, 1000)


def test_a_tree_of_many_files_at_the_limit_is_refused_past_four_files_worth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file within its own limit, but ten of them: without a limit on all files together
    a pull request of a hundred such files costs a hundred times one (at the real defaults ~2 s
    and ~50 MB each: minutes and gigabytes in a pre-commit hook)."""
    tree = tmp_path / "tree"
    tree.mkdir()
    nodes = 2 + 990  # the mapping, a key, and a list of 990 items
    for n in range(10):
        (tree / f"f{n}.yaml").write_text("x: [" + ",".join(["1"] * (nodes - 2)) + "]\n")
    result = run_cli("validate", str(tree))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    refused = [line for line in lines if "YAML nodes together (refused)" in line]
    read = [line for line in lines if "unknown key 'x'" in line]
    assert len(read) == 5 and len(refused) == 5, result.output  # 4 x 1,000 nodes: the 5th is read
    assert refused[0] == (
        f"{tree / 'f5.yaml'}:1:1: error: not read: the files read before it hold more than 4000 "
        f"YAML nodes together (refused); for trusted files raise {yamlload.NODES_ENV}"
    )
    monkeypatch.setenv(yamlload.NODES_ENV, "3000")  # trusted: 12,000 together
    assert "together" not in run_cli("validate", str(tree)).output
