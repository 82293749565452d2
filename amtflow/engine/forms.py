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
    request = planned.request
    return StartRequest(
        task_id=task_id,
        task_type=request.task_type.wire_name,
        application=request.application,
        submit_user=request.submit_user,
        user=request.user,
        station=request.station,
        queue=request.queue,
        job_name=request.job_name,
        task_values=request.task_values,
        script_name=request.script_name,
        script_parameters=request.script_parameters,
    )


def log_header(ctx: RunContext, planned: PlannedJob, agent: Agent, attempt: int) -> JobLogHeader:
    """The job log header of one attempt of ``planned`` on ``agent`` (secrets masked)."""
    request = planned.request.shown
    return JobLogHeader(
        server=agent.batch_server_url,
        agent=agent.name,
        application=request.application,
        submit_user=request.submit_user,
        station=request.station,
        queue=request.queue,
        task_type=request.task_type.value,
        target=request.target,
        parameters=request.parameters,
        user=request.user,
        run_id=ctx.run_id,
        schedule=ctx.schedule,
        job=planned.name,
        attempt=attempt,
    )
