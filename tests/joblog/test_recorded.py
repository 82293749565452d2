"""``amtflow logs RUN JOB`` for a log that is not on disk: not begun yet, or gone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner

from amtflow.cli import cli
from amtflow.runs import JobState
from amtflow.state import Journal


def test_a_running_job_whose_log_is_not_begun_says_so_and_a_gone_one_says_gone(
    tmp_path: Path,
) -> None:
    with Journal.open(tmp_path / "state") as journal:
        run_id = journal.begin_run(
            "NIGHTLY", dt.date(2026, 11, 24), definitions="d.yaml", digest="x"
        ).run_id
        for job in ("STARTED", "ENDED"):
            journal.new_attempt(run_id, job, 1, f"task-{job}")
            journal.set_batch_request_id(run_id, job, 1, 4280, str(tmp_path / f"{job}.log"))
        journal.finish_attempt(run_id, "ENDED", 1, JobState.OK, completion_code=4)
    state = ["--state-dir", str(tmp_path / "state")]
    started = CliRunner().invoke(cli, ["logs", run_id, "STARTED", *state])
    assert started.exit_code == 0, started.output
    assert "(not begun yet: the job was started a moment ago)" in started.output
    ended = CliRunner().invoke(cli, ["logs", run_id, "ENDED", *state])
    assert ended.exit_code == 0, ended.output
    assert "(the file is gone: purged or moved)" in ended.output
