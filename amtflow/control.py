"""Acting on a recorded run from any terminal: kill one of its jobs, read its job logs.

Both start from the journal: the run's recorded plan (agents, batch users) and each job's latest
attempt (batch request id, log path), never the definition files, which may have changed since.
Neither needs the process that runs the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from amtflow.batch import BatchClient, JobStatus
from amtflow.client import AmtClient, new_session
from amtflow.errors import StateError, UsageError
from amtflow.model import Agent
from amtflow.runs import JobRunRecord, RunRecord
from amtflow.runspec import RecordedPlan, recorded_plan
from amtflow.servers import AGENTS, Reach, Servers, Simulated
from amtflow.state import Journal


@dataclass(frozen=True)
class KillAnswer:
    """What the server answered a kill of one job of a run."""

    run_id: str
    job: str
    batch_request_id: int
    status: JobStatus


async def kill_job(
    state_dir: Path,
    run_ref: str,
    job: str,
    environ: Mapping[str, str] | None = None,
    servers: Servers = AGENTS,
) -> KillAnswer:
    """Send a Kill for ``job`` of run ``run_ref`` (the running engine then sees KILLED)."""
    with Journal.open(state_dir) as journal:
        run = journal.run(run_ref)
        attempt = _running_attempt(run, journal.latest_attempts(run.run_id), job)
    recorded = recorded_plan(run, environ or {})
    agent = _agent_of(recorded, run, job)
    if not agent.allow_kill_job:
        raise UsageError(
            f"agent {agent.name} does not allow kill (allow_kill_job is false): "
            f"nothing was sent for {job}"
        )
    assert attempt.batch_request_id is not None
    async with recorded_servers(recorded, servers) as reach, new_session() as session:
        client = agent_client(recorded, reach, agent.name, session)
        status = await client.kill(attempt.batch_request_id)
    return KillAnswer(run.run_id, job, attempt.batch_request_id, status)


def recorded_servers(
    recorded: RecordedPlan, servers: Servers
) -> AbstractAsyncContextManager[Reach]:
    """The servers of a recorded run where it reached them: a simulated run's own simulator,
    which runs as long as its runner does."""
    url = recorded.spec.simulator_url if recorded.spec.simulate else ""
    return servers(recorded.agents, Simulated(url=url) if url else None)


def agent_client(
    recorded: RecordedPlan, reach: Reach, agent: str, session: aiohttp.ClientSession
) -> BatchClient:
    """A client for one agent of a recorded run, as ``reach`` reaches it."""
    reached = reach.agents[agent]
    user = recorded.batch_users[reached.batch_user]
    return AmtClient(session, reached, user, password=reach.password)


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


def _agent_of(recorded: RecordedPlan, run: RunRecord, job: str) -> Agent:
    planned = recorded.plan().job(job)
    if planned is None:
        raise StateError(f"run {run.run_id} has no job '{job}'")
    return recorded.agents[planned.job.agent]


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
