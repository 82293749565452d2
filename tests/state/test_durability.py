"""A run killed with SIGKILL at any instant loses no committed row."""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

from amtflow.runs import JobState
from amtflow.state import Journal
from amtflow.state.journal import journal_path

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


# Keeps its journal open as a runner does: begins a run, then records one job per line read.
_RUNNER = """
import datetime, sys
from pathlib import Path
from amtflow.state import Journal
journal = Journal.open(Path(sys.argv[1]))
run = journal.begin_run("NIGHTLY", datetime.date(2026, 11, 24), definitions="", digest="")
print(run.run_id, flush=True)
for n, _ in enumerate(sys.stdin, 1):
    journal.new_attempt(run.run_id, f"JOB{n}", 1, f"task-{n}")
    journal.set_batch_request_id(run.run_id, f"JOB{n}", 1, 4000 + n, f"JOB{n}.log")
    print("recorded", n, flush=True)
journal.close()
"""
SHM_DMS_BYTE = 128  # SQLite's unix VFS: each user of a WAL journal read-locks this byte of -shm


def holder_of_write_lock(path: Path, byte: int) -> int | None:
    """The pid of a process whose POSIX lock on ``byte`` of ``path`` keeps us from writing it."""
    flock = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, byte, 1, 0)
    with path.open("rb") as handle:
        answer = fcntl.fcntl(handle.fileno(), fcntl.F_GETLK, flock)
    kind, _, _, _, pid = struct.unpack("hhqqi", answer)
    return None if kind == fcntl.F_UNLCK else pid


def test_a_runner_keeps_its_share_of_the_journal_while_status_reads_it(state_dir: Path) -> None:
    """A process that opens the journal while a runner has it open must see the runner there.

    Journal.open used to chmod the ``-shm`` file by opening and closing it after SQLite had
    opened it, and closing any descriptor of a file drops all of the process's POSIX locks on
    it. So SQLite's read lock that marks the runner as a user of the shared-memory WAL index
    was gone: the next ``amtflow status`` (or a test's wait reading the journal) took itself for
    the first user and reset that index under the runner, which died of SIGBUS, silently, while
    its jobs ran (seen as a browser test's run that never got to its second job).
    """
    runner = subprocess.Popen(
        [sys.executable, "-c", _RUNNER, str(state_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert runner.stdin is not None and runner.stdout is not None
    run_id = runner.stdout.readline().strip()
    assert (
        holder_of_write_lock(journal_path(state_dir).with_name("journal.db-shm"), SHM_DMS_BYTE)
        == runner.pid
    )
    for n in range(1, 4):
        shown = subprocess.run(
            [sys.executable, "-m", "amtflow", "status", run_id, "--format", "json",
             "--state-dir", str(state_dir)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        runner.stdin.write("next\n")
        runner.stdin.flush()
        assert runner.stdout.readline().split() == ["recorded", str(n)]
    runner.stdin.close()
    assert runner.wait(timeout=120) == 0
    with Journal.open(state_dir, read_only=True) as journal:
        stored = journal.latest_attempts(run_id)
    assert {job: record.batch_request_id for job, record in stored.items()} == {
        "JOB1": 4001,
        "JOB2": 4002,
        "JOB3": 4003,
    }
