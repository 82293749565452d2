"""The job logs of a recorded run, found through the journal: ``amtflow logs RUN [JOB]``.

The journal records each attempt's log path; the files are read as they are now (one purged
since is reported as gone, not as an error; a running job's log is written once the job is seen
running, a moment after its Start was answered: until then it is reported as not begun).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from amtflow.errors import StateError
from amtflow.runs import JobRunRecord
from amtflow.state import Journal


@dataclass(frozen=True)
class JobLogFile:
    job: str
    attempt: int
    path: Path
    text: str | None  # None when the file is gone (purged), or not begun yet
    running: bool = False  # the attempt had not ended when the journal was read


def job_logs(state_dir: Path, run_ref: str, job: str | None = None) -> list[JobLogFile]:
    """The log files of a run (every attempt, in order), or of one of its jobs."""
    with Journal.open(state_dir, read_only=True) as journal:
        run = journal.run(run_ref)
        records = [r for r in journal.job_runs(run.run_id) if r.log_path]
    if job is not None:
        records = [r for r in records if r.job == job]
        if not records:
            raise StateError(f"run {run.run_id} has no log for job '{job}'")
    return [_read(r) for r in records]


def _read(record: JobRunRecord) -> JobLogFile:
    path = Path(record.log_path or "")
    try:
        # empty: created, its one write not made yet (or a crash between: joblog/files.py publish)
        text: str | None = path.read_text(encoding="utf-8", errors="replace") or None
    except FileNotFoundError:
        text = None
    except OSError as exc:
        raise StateError(f"cannot read job log {path}: {exc.strerror}") from exc
    return JobLogFile(record.job, record.attempt, path, text, not record.state.finished)
