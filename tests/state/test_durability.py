"""A run killed with SIGKILL at any instant loses no committed row."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from amtflow.runs import JobState
from amtflow.state import Journal

# Writes attempts forever, printing each one once its calls returned (i.e. committed); never closes.
_WRITER = """
import datetime, sys
from pathlib import Path
from amtflow.runs import JobState
from amtflow.state import Journal
journal = Journal.open(Path(sys.argv[1]))
run = journal.begin_run("NIGHTLY", datetime.date(2026, 11, 24), definitions="", digest="")
print(run.run_id, flush=True)
n = 0
while True:
    n += 1
    job = f"JOB{n}"
    journal.new_attempt(run.run_id, job, 1, f"task-{n}")
    print("task", job, flush=True)
    journal.set_batch_request_id(run.run_id, job, 1, 4000 + n, f"{job}.log")
    print("request", job, flush=True)
    journal.finish_attempt(run.run_id, job, 1, JobState.OK, completion_code=4)
    print("done", job, flush=True)
"""


def test_sigkill_loses_no_committed_row(state_dir: Path) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(state_dir)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    run_id = writer.stdout.readline().strip()
    reported = [writer.stdout.readline().split() for _ in range(31)]  # stops mid-job
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=10)
    assert writer.returncode == -signal.SIGKILL

    with Journal.open(state_dir) as journal:
        stored = journal.latest_attempts(run_id)
    for step, job in reported:
        record = stored[job]
        assert record.task_id == f"task-{job[3:]}"
        if step in ("request", "done"):
            assert record.batch_request_id == 4000 + int(job[3:])
        if step == "done":
            assert record.state is JobState.OK and record.completion_code == 4
