"""What ``amtflow abandon`` shows: each job that had not ended, and what became of it."""

from __future__ import annotations

from rich.markup import escape

from amtflow.report import stdout
from amtflow.runs import Abandoned


def abandoned(result: Abandoned) -> None:
    """One line per job still open when the run was abandoned, then the run's end."""
    for job in result.jobs:
        where = f" (R:{job.batch_request_id})" if job.batch_request_id is not None else ""
        stdout.print(f"  {escape(job.job)}{where}: {escape(job.note)}")
    going_on = [job.job for job in result.jobs if job.note.startswith("goes on")]
    tail = f"; still running on the servers: {', '.join(going_on)}" if going_on else ""
    stdout.print(f"run {escape(result.run_id)} abandoned{escape(tail)}")
