"""What an attempt sends and writes, filled in from its planned job: the Start request and the
job log's header (the fields of the vendor's task form, docs/amt-api.md)."""

from __future__ import annotations

from amtflow.batch import StartRequest
from amtflow.engine.context import RunContext
from amtflow.joblog import JobLogHeader
from amtflow.model import Agent
from amtflow.plan import PlannedJob


def start_request(planned: PlannedJob, task_id: str) -> StartRequest:
    """The OpConJobAction Start for ``planned``, under ``task_id``."""
    return StartRequest(task_id, planned.request.task)


def log_header(ctx: RunContext, planned: PlannedJob, agent: Agent, attempt: int) -> JobLogHeader:
    """The job log header of one attempt of ``planned`` on ``agent`` (secrets masked)."""
    return JobLogHeader(
        server=agent.batch_server_url,
        agent=agent.name,
        task=planned.request.shown,
        run_id=ctx.run_id,
        schedule=ctx.schedule,
        job=planned.name,
        attempt=attempt,
    )
