"""Acting on a recorded run from any terminal: kill one of its jobs, read its job logs.

Both start from the journal: the run's definitions file, its options and each job's latest
attempt (batch request id, log path). Neither needs the process that runs the run.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from amtflow import definitions as defs
from amtflow.batch import JobStatus
from amtflow.client import AmtClient, new_session
from amtflow.errors import StateError, UsageError
from amtflow.model import Agent, Definitions
from amtflow.runs import JobRunRecord, RunRecord
from amtflow.simulator import SIMULATED_PASSWORD
from amtflow.state import Journal


@dataclass(frozen=True)
class KillAnswer:
    """What the server answered a kill of one job of a run."""

    run_id: str
    job: str
    batch_request_id: int
    status: JobStatus


async def kill_job(state_dir: Path, run_ref: str, job: str) -> KillAnswer:
    """Send a Kill for ``job`` of run ``run_ref`` (the running engine then sees KILLED)."""
    with Journal.open(state_dir) as journal:
        run = journal.run(run_ref)
        attempt = _running_attempt(run, journal.latest_attempts(run.run_id), job)
    options = json.loads(run.options or "{}")
    definitions = defs.load([run.definitions], properties=options.get("properties", {}))
    agent = _agent_of(definitions, run, job)
    if not agent.allow_kill_job:
        raise UsageError(
            f"agent {agent.name} does not allow kill (allow_kill_job is false): "
            f"nothing was sent for {job}"
        )
    assert attempt.batch_request_id is not None
    simulator_url = options.get("simulator_url") or ""
    if simulator_url:
        agent = dataclasses.replace(agent, batch_server_url=simulator_url)
    async with new_session() as session:
        client = AmtClient(
            session,
            agent,
            definitions.batch_users[agent.batch_user],
            password=(lambda: SIMULATED_PASSWORD) if simulator_url else None,
        )
        status = await client.kill(attempt.batch_request_id)
    return KillAnswer(run.run_id, job, attempt.batch_request_id, status)


def _running_attempt(run: RunRecord, attempts: dict[str, JobRunRecord], job: str) -> JobRunRecord:
    attempt = attempts.get(job)
    if attempt is None:
        raise StateError(f"run {run.run_id} has no job '{job}' that started")
    if attempt.state.finished:
        raise StateError(f"job {job} of run {run.run_id} already ended ({attempt.state.value})")
    if attempt.batch_request_id is None:
        raise StateError(
            f"job {job} of run {run.run_id} is being started: its batch request id "
            "is not known yet; try again in a moment"
        )
    return attempt


def _agent_of(definitions: Definitions, run: RunRecord, job: str) -> Agent:
    schedule = definitions.schedules.get(run.schedule)
    master = schedule.job(job) if schedule else None
    if master is None:
        raise StateError(f"job {job} of run {run.run_id} is no longer in {run.definitions}")
    return definitions.agents[master.agent]


@dataclass(frozen=True)
class JobLogFile:
    job: str
    attempt: int
    path: Path
    text: str | None  # None when the file is gone (purged)


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
        text: str | None = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        text = None
    except OSError as exc:
        raise StateError(f"cannot read job log {path}: {exc.strerror}") from exc
    return JobLogFile(record.job, record.attempt, path, text)
