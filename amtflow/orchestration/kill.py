"""``amtflow kill RUN JOB``: kill one job of a recorded run, from any terminal.

It starts from the journal: the run's recorded plan (agents, batch users) and the job's latest
attempt (its batch request id), never the definition files, which may have changed since. It
does not need the process that runs the run. ``abandon`` reaches a recorded run's agents the
same way (``recorded_servers``, ``agent_client``).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import aiohttp

from amtflow.batch import BatchClient
from amtflow.client import AmtClient, new_session
from amtflow.errors import StateError, UsageError
from amtflow.model import Agent
from amtflow.orchestration.record import RecordedPlan, recorded_plan
from amtflow.orchestration.servers import AGENTS, Reach, Servers, Simulated
from amtflow.runs import JobRunRecord, KillAnswer, RunRecord
from amtflow.state import Journal


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
