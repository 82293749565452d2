"""One rule for naming a RUN, in every command that takes one: the whole id, or a prefix of at
least 4 characters; a shorter prefix is one line and exit 2, whatever the command."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from amtflow.runs import JobState, RunState
from amtflow.state import Journal, journal_path
from tests.run.conftest import amtflow
from tests.state.conftest import DATE


def _a_failed_run(state_dir: Path) -> str:
    with Journal.open(state_dir) as journal:
        run = journal.begin_run("NIGHTLY", DATE, definitions="n.yaml", digest="d")
        journal.new_attempt(run.run_id, "LOAD", 1, "t1")
        journal.finish_attempt(run.run_id, "LOAD", 1, JobState.FAILED, completion_code=11)
        journal.finish_run(run.run_id, RunState.FAILED)
    return run.run_id


def _commands(ref: str) -> list[tuple[str, ...]]:
    return [
        ("status", ref),
        ("logs", ref),
        ("kill", ref, "LOAD"),
        ("abandon", ref),
        ("resume", ref),
        ("rerun", ref),
        ("hold", ref, "LOAD"),
        ("release", ref, "LOAD"),
        ("skip", ref, "LOAD"),
        ("mark-ok", ref, "LOAD"),
        ("report", ref, "--html", "r.html"),
    ]


def test_every_command_that_takes_a_run_refuses_a_prefix_of_fewer_than_4_characters(
    tmp_path: Path,
) -> None:
    state_dir = tmp_path / "state"
    run_id = _a_failed_run(state_dir)
    before = journal_path(state_dir).read_bytes()
    commands = [c for ref in (run_id[:1], run_id[:3]) for c in _commands(ref)]
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(lambda c: amtflow(*c, "--state-dir", state_dir, cwd=tmp_path), commands)
        )
    for command, result in zip(commands, results, strict=True):
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert result.stderr == (
            f"amtflow: error: run '{command[1]}': give at least 4 characters of the run id "
            "(amtflow status lists the runs)\n"
        ), command
    assert journal_path(state_dir).read_bytes() == before  # nothing recorded
    assert not (tmp_path / "r.html").exists()


def test_four_characters_or_the_whole_id_name_the_run(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    run_id = _a_failed_run(state_dir)
    for ref in (run_id[:4], run_id):
        result = amtflow("status", ref, "--state-dir", state_dir, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert run_id in result.stdout and "LOAD" in result.stdout
