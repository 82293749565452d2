"""A state dir that read-only commands (status, logs, completion) poll while a run creates it.

A monitoring script may poll ``amtflow status`` from the moment a run is started. The reader
must never see a half-made journal, nor keep the runner from writing: before, a poller made the
runner wait for its switch to WAL mode, read an empty file ("no such table"), and the runner
itself dropped its own locks on the ``-shm`` file, so that a reader then truncated the shared
memory under it: the runner died of SIGBUS at its first write.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.run.conftest import amtflow, write_definitions
from tests.waits import PATIENCE_S

POLL = """
import sys, time
from pathlib import Path
from amtflow.errors import AmtflowError
from amtflow.state import read_status

state_dir, stop = Path(sys.argv[1]), Path(sys.argv[2])
deadline = time.monotonic() + float(sys.argv[3])
reads = 0
print("polling", flush=True)
while not stop.exists() and time.monotonic() < deadline:
    try:
        read_status(state_dir)
    except AmtflowError as exc:
        print("error:", exc, flush=True)
    reads += 1
    time.sleep(0.002)
print("reads:", reads, flush=True)
"""

WRITE = """
import datetime, sys
from pathlib import Path
from amtflow.runs import JobState
from amtflow.state import Journal

with Journal.open(Path(sys.argv[1])) as journal:
    run = journal.begin_run("NIGHTLY", datetime.date(2026, 11, 24), definitions="", digest="")
    journal.new_attempt(run.run_id, "A", 1, "t1")
    journal.finish_attempt(run.run_id, "A", 1, JobState.OK, completion_code=0)
print(run.run_id)
"""


def _poller(state_dir: Path, stop: Path) -> subprocess.Popen[str]:
    argv = [sys.executable, "-c", POLL, str(state_dir), str(stop), str(PATIENCE_S)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _until_polling(poller: subprocess.Popen[str]) -> None:
    """Once the poller has imported amtflow and reads the (still missing) journal."""
    assert poller.stdout is not None
    assert poller.stdout.readline() == "polling\n"


def test_a_journal_created_while_status_polls_it_is_written_and_read_whole(
    tmp_path: Path,
) -> None:
    for round_ in range(6):
        state_dir, stop = tmp_path / f"state{round_}", tmp_path / f"stop{round_}"
        poller = _poller(state_dir, stop)
        _until_polling(poller)
        writer = subprocess.run(
            [sys.executable, "-c", WRITE, str(state_dir)],
            capture_output=True,
            text=True,
            timeout=PATIENCE_S,
        )
        stop.write_text("")
        polled, _ = poller.communicate(timeout=PATIENCE_S)
        # SIGBUS (-7) before: the runner's shared memory truncated under it by a reader
        assert writer.returncode == 0, (round_, writer.returncode, writer.stderr[-2000:])
        assert "error:" not in polled, polled  # never "no such table", never "cannot open"
        assert polled.startswith("reads:"), polled


def test_amtflow_run_starts_and_ends_while_status_polls_its_new_state_dir(tmp_path: Path) -> None:
    jobs = [{"name": f"J{n}", "task": "batch_job", "job_name": f"J{n}"} for n in range(3)]
    schedule = write_definitions(tmp_path, "http://127.0.0.1:1", jobs)
    state_dir, stop = tmp_path / "state", tmp_path / "stop"
    poller = _poller(state_dir, stop)
    _until_polling(poller)
    dirs = ("--state-dir", state_dir, "--log-dir", tmp_path / "logs")
    result = amtflow("run", schedule, "--simulate", "--date", "2026-11-24", *dirs, cwd=tmp_path)
    stop.write_text("")
    polled, _ = poller.communicate(timeout=PATIENCE_S)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error:" not in polled, polled
    status = amtflow("status", "--state-dir", state_dir, cwd=tmp_path)
    assert status.returncode == 0 and "NIGHTLY" in status.stdout, status.stdout + status.stderr
