"""One job of a run, from its first step to its outcome: the wait for its start time or while an
operator holds it, each attempt in its agent's slot, the retries (``Engine`` runs one per job).

What the job runs of an engine share (the agents and their slots, the ready queue, the operator's
desk, where each job carries on from) is one ``Lanes``; the engine keeps the graph, the outcomes
and the tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from amtflow.batch import BatchClient
from amtflow.engine.attempt import Attempt, AttemptResult
from amtflow.engine.context import JobEvent, JobFlag, RunContext
from amtflow.engine.launch import ReadyQueue, TaskIdCommit
from amtflow.engine.operator import OperatorDesk
from amtflow.engine.resume import ResumePoint, retries
from amtflow.engine.timing import missed_start, wait_for_start
from amtflow.model import Agent
from amtflow.operator import OperatorRecord, StartWithheld
from amtflow.plan import PlannedJob
from amtflow.runs import JobOutcome, JobRunRecord, JobState

NotRun = Callable[[str, str, JobState, JobFlag | None], JobOutcome]


@dataclass(frozen=True)
class Lanes:
    """What every job run of one engine shares."""

    ctx: RunContext
    agents: Mapping[str, Agent]
    clients: Mapping[str, BatchClient]
    per_agent: Mapping[str, asyncio.Semaphore]  # an agent's max_concurrent_jobs
    overall: asyncio.Semaphore  # the run's max_parallel
    queue: ReadyQueue
    desk: OperatorDesk
    points: Mapping[str, ResumePoint]
    rerun: frozenset[str]  # jobs of a finished run started again as a new attempt
    task_ids: TaskIdCommit  # one fsync per tick of Starts
    interrupted: Callable[[], bool]
    not_run: NotRun  # records a job that did not run, and why: its outcome


def start_ahead(ctx: RunContext, planned: PlannedJob) -> bool:
    """Whether the job's start time is still to come."""
    not_before = planned.times.not_before
    return not_before is not None and ctx.now() < not_before


class JobRun:
    """The attempts of one planned job, to its outcome."""

    def __init__(self, lanes: Lanes, planned: PlannedJob) -> None:
        self.lanes, self.planned = lanes, planned

    @property
    def name(self) -> str:
        return self.planned.name

    async def outcome(self) -> JobOutcome:
        lanes, planned = self.lanes, self.planned
        result = AttemptResult(JobState.NOT_RUN, None, "run interrupted before it started")
        point = lanes.points[self.name]
        first, record = point.attempt, point.carried_on
        attempts = 0
        try:
            if point.first_start and start_ahead(lanes.ctx, planned):
                lanes.queue.leave(self.name)  # it waits outside the slots
                await wait_for_start(lanes.ctx, planned)
            for number in range(first, max(first, planned.job.retry.attempts + 1) + 1):
                attempts = number
                try:
                    result = await self._attempt(number, record if number == first else None)
                except StartWithheld:  # marked OK just before this retry's Start
                    lanes.desk.take_new()
                    attempts = number - 1
                    break
                if not self._retryable(result, number):
                    break
                lanes.queue.leave(self.name)  # it waits outside the slots
                if await self._retry_wait(number):
                    break  # marked OK while it waited
        except asyncio.CancelledError:
            if result.state is JobState.NOT_RUN:
                return lanes.not_run(self.name, result.reason, JobState.NOT_RUN, None)
        if result.state is JobState.SKIPPED:  # skipped by an operator while it was held
            return lanes.not_run(self.name, result.reason, JobState.SKIPPED, None)
        if result.state is JobState.NOT_RUN:  # it missed its latest start
            return lanes.not_run(self.name, result.reason, JobState.NOT_RUN, JobFlag.MISSED_START)
        return JobOutcome.of(self.name, attempts, result)

    async def _retry_wait(self, number: int) -> OperatorRecord | None:
        retry = self.planned.job.retry
        said = f"retry in {retry.delay:g}s, attempt {number + 1} of {retry.attempts + 1}"
        self.lanes.ctx.observe(JobEvent(self.name, JobState.PENDING, number + 1, reason=said))
        return await self.lanes.desk.retry_wait(self.name, retry.delay)

    async def _attempt(self, number: int, record: JobRunRecord | None) -> AttemptResult:
        """One attempt; ``record`` is where a resumed run left this attempt. A first attempt
        waits while an operator holds the job, and does not start once it is skipped."""
        desk = self.lanes.desk
        while number == 1 and record is None:
            if self.name in desk.view.held:
                self.lanes.queue.leave(self.name)  # it waits outside the slots
            skip = await desk.until_released(self.name, self._tell_held)
            if skip is not None:
                return AttemptResult(JobState.SKIPPED, None, skip.said)
            try:
                return await self._attempt_in_slot(number, record)
            except StartWithheld:  # held or skipped after the last tick, before its Start
                desk.take_new()
        return await self._attempt_in_slot(number, record)

    def _tell_held(self, record: OperatorRecord) -> None:
        self.lanes.ctx.observe(JobEvent(record.job, JobState.PENDING, reason=record.said))

    async def _attempt_in_slot(self, number: int, record: JobRunRecord | None) -> AttemptResult:
        lanes, planned = self.lanes, self.planned
        agent = lanes.agents[planned.job.agent]
        lanes.queue.seek(self.name, agent.name)
        async with lanes.per_agent[agent.name], lanes.overall:
            if self._held_to_latest_start(number, record):
                missed = missed_start(lanes.ctx, planned)
                if missed:
                    return AttemptResult(JobState.NOT_RUN, None, missed)
            attempt = Attempt(
                lanes.ctx,
                planned,
                number,
                agent,
                lanes.clients[agent.name],
                task_id=record.task_id if record else None,
                task_ids=lanes.task_ids,
            )
            if record and record.batch_request_id is not None and record.log_path:
                return await attempt.reattach(record.batch_request_id, Path(record.log_path))
            return await attempt.run()

    def _held_to_latest_start(self, number: int, record: JobRunRecord | None) -> bool:
        """A first Start checks the latest start, unless an operator reruns the job: starting
        it late is then their decision (``amtflow rerun`` says the time is past)."""
        return number == 1 and record is None and self.name not in self.lanes.rerun

    def _retryable(self, result: AttemptResult, number: int) -> bool:
        lanes = self.lanes
        if result.interrupted or lanes.interrupted() or self.name in lanes.desk.view.marked_ok:
            return False
        return retries(self.planned.job.retry, result.state, result.completion_code, number)
