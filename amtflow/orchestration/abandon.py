"""``amtflow abandon RUN``: close a run whose runner is gone, on purpose.

Its jobs still running on agents that allow kill are killed, and the server's KILLED awaited (a
kill is not shown as done until MonitorJob says so); the ones on agents that forbid kill go on and
are listed; the run is then recorded ABANDONED, so the next ``amtflow run`` of its schedule date
starts a new run. Everything comes from the journal's record of the run, not from definitions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Mapping
from pathlib import Path

from amtflow import batch
from amtflow.batch import BatchClient, JobStatus
from amtflow.client import new_session
from amtflow.errors import AmtError, Conflict, StateError
from amtflow.orchestration.kill import agent_client, recorded_servers
from amtflow.orchestration.record import RecordedPlan, recorded_plan, spec_or_damage
from amtflow.orchestration.servers import AGENTS
from amtflow.runs import Abandoned, AbandonedJob, JobRunRecord, JobState, RunRecord, RunState
from amtflow.state import Journal, RunLock
from amtflow.wording import code_text

KILL_GRACE_S = 10.0  # how long to wait for the server to confirm each kill
POLL_S = 0.2


async def abandon_run(
    state_dir: Path,
    run_ref: str,
    environ: Mapping[str, str] | None = None,
) -> Abandoned:
    """Kill what may be killed of run ``run_ref``, list what goes on, record the run ABANDONED."""
    with Journal.open(state_dir) as journal:
        run = journal.run(run_ref)
        date = dt.date.fromisoformat(run.date)
        with RunLock.acquire(state_dir, run.schedule, date, run.run_id):  # no runner is alive
            run = journal.run(run.run_id)
            _check_abandonable(run)
            open_jobs = [a for a in journal.latest_attempts(run.run_id).values() if _open(a)]
            jobs = (
                await _stop_all(recorded_plan(run, environ or {}), open_jobs) if open_jobs else []
            )
            for job, attempt in zip(jobs, open_jobs, strict=True):
                _record(journal, attempt, job)
            journal.finish_run(run.run_id, RunState.ABANDONED)
    return Abandoned(run.run_id, tuple(jobs))


def _check_abandonable(run: RunRecord) -> None:
    """Only an unfinished run is abandoned, or a finished one whose recorded options cannot be
    read: its selection is unknown, so it would block its schedule date for good."""
    if run.state.finished and isinstance(spec_or_damage(run), str):
        return
    if run.state.finished or run.state is RunState.ABANDONED:
        raise StateError(f"run {run.run_id} already ended ({run.state.value}): nothing to abandon")


def _open(attempt: JobRunRecord) -> bool:
    return not attempt.state.finished and attempt.state is not JobState.PENDING


async def _stop_all(recorded: RecordedPlan, attempts: list[JobRunRecord]) -> list[AbandonedJob]:
    if recorded.spec.simulate:  # the embedded simulator, and its jobs, ended with the runner
        note = "ended with the embedded simulator"
        return [AbandonedJob(a.job, a.batch_request_id, JobState.FAILED, note) for a in attempts]
    plan = recorded.plan()
    # a simulated run's simulator ended with its runner (above): only the agents' own servers
    async with recorded_servers(recorded, AGENTS) as reach, new_session() as session:
        stops = []
        for attempt in attempts:
            planned = plan.job(attempt.job)
            agent = recorded.agents[planned.job.agent] if planned else None
            client = agent_client(recorded, reach, agent.name, session) if agent else None
            kill = agent is not None and agent.allow_kill_job
            stops.append(_stop(attempt, client, kill, agent.name if agent else "?"))
        return list(await asyncio.gather(*stops))


async def _stop(
    attempt: JobRunRecord, client: BatchClient | None, kill: bool, agent: str
) -> AbandonedJob:
    job, number = attempt.job, attempt.batch_request_id
    if number is None:
        note = "its Start was never answered: it may be on the server; check there"
        return AbandonedJob(job, None, attempt.state, note)
    if not kill or client is None:
        note = f"goes on: agent {agent} does not allow kill"
        return AbandonedJob(job, number, attempt.state, note)
    try:
        status = await _kill_and_wait(client, number)
    except AmtError as exc:
        return AbandonedJob(job, number, attempt.state, f"kill failed: {exc}")
    if status is None or not status.terminal:
        return AbandonedJob(job, number, attempt.state, "kill sent; the server did not confirm it")
    if status.completion_code == batch.KILLED:
        return AbandonedJob(job, number, JobState.KILLED, "killed", batch.KILLED)
    state = JobState.OK if status.ok else JobState.FAILED
    note = f"had already ended {code_text(status.completion_code)}"
    return AbandonedJob(job, number, state, note, status.completion_code)


async def _kill_and_wait(client: BatchClient, batch_request_id: int) -> JobStatus | None:
    try:
        status: JobStatus | None = await client.kill(batch_request_id)
    except Conflict:  # it ended before the kill came: its real end state follows
        status = None
    deadline = time.monotonic() + KILL_GRACE_S
    while (status is None or not status.terminal) and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
        status = await client.monitor(batch_request_id)
    return status


def _record(journal: Journal, attempt: JobRunRecord, job: AbandonedJob) -> None:
    if not job.state.finished:
        return  # it goes on, or nobody knows: the journal keeps what it knew
    journal.finish_attempt(
        attempt.run_id,
        attempt.job,
        attempt.attempt,
        job.state,
        completion_code=job.completion_code,
        reason=f"run abandoned: {job.note}",
    )
