"""The engine: runs a plan's jobs as their dependencies allow, within the concurrency limits.

``graphlib.TopologicalSorter`` drives it: each job that becomes ready either starts (within its
agent's ``max_concurrent_jobs`` and the run's ``max_parallel``) or, when a dependency can no longer
be met, is marked not run with the reason. Nothing waits forever: every job ends in a state.
"""

from __future__ import annotations

import asyncio
import dataclasses
import graphlib
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from amtflow.batch import BatchClient
from amtflow.engine.attempt import Attempt, AttemptResult
from amtflow.engine.context import JobEvent, JobFlag, RunContext
from amtflow.engine.launch import TaskIdCommit
from amtflow.engine.resume import Resume, resume_points, retries
from amtflow.engine.timing import Deadlines, missed_start, wait_for_start
from amtflow.model import Agent, Condition, Dependency
from amtflow.plan import Plan, PlannedJob
from amtflow.runs import JobOutcome, JobRunRecord, JobState


class Engine:
    """Runs one plan. ``interrupt()`` stops it: running jobs are killed where allowed."""

    def __init__(
        self,
        ctx: RunContext,
        plan: Plan,
        agents: Mapping[str, Agent],
        clients: Mapping[str, BatchClient],
        *,
        max_parallel: int = 50,
        resume: Mapping[str, JobRunRecord] | None = None,
        rerun: Collection[str] = (),
        on_outcome: Callable[[JobOutcome], None] = lambda outcome: None,
    ) -> None:
        self.on_outcome = on_outcome  # each job run by this engine, after its last attempt
        self.ctx, self.plan, self.agents, self.clients = ctx, plan, agents, clients
        # jobs of a finished run to start again as a new attempt (amtflow rerun)
        self.rerun = frozenset(rerun)
        self.points = resume_points(plan.jobs, resume, self.rerun)
        self.overall = asyncio.Semaphore(max_parallel)
        self.per_agent = {
            name: asyncio.Semaphore(agent.max_concurrent_jobs) for name, agent in agents.items()
        }
        self.outcomes: dict[str, JobOutcome] = {}
        self.tasks: dict[asyncio.Task[JobOutcome], str] = {}
        # Ended tasks queue themselves: waiting on thousands of tasks at once with asyncio.wait
        # would register a callback on each of them every time one ends.
        self.ended: asyncio.Queue[asyncio.Task[JobOutcome]] = asyncio.Queue()
        self.interrupted = False
        self.task_ids = TaskIdCommit(ctx.recorder, ctx.run_id)  # one fsync per tick of Starts

    async def run(self) -> dict[str, JobOutcome]:
        """Run every job of the plan (carrying on from ``resume`` records) to an outcome each."""
        sorter = graphlib.TopologicalSorter(
            {job.name: [dep.job for dep in job.depends_on] for job in self.plan.jobs}
        )
        sorter.prepare()
        deadlines = Deadlines(self.ctx, ended=self.outcomes.__contains__)
        deadlines.watch(self.plan.jobs, self._state_of)
        try:
            while sorter.is_active():
                for name in sorter.get_ready():
                    self._launch(self.plan.job(name), sorter)  # type: ignore[arg-type]
                if self.tasks:
                    await self._collect(sorter)
        finally:
            deadlines.stop()
        if deadlines.error is not None:
            raise deadlines.error
        return {
            job.name: dataclasses.replace(
                self.outcomes[job.name], late=deadlines.late.get(job.name, "")
            )
            for job in self.plan.jobs
        }

    def _state_of(self, name: str) -> JobState:
        return JobState.RUNNING if name in self.tasks.values() else JobState.PENDING

    def interrupt(self) -> None:
        """Stop launching jobs and cancel the running ones (they kill their AMT job if allowed)."""
        self.interrupted = True
        for task in self.tasks:
            task.cancel()

    def _launch(self, planned: PlannedJob, sorter: graphlib.TopologicalSorter[str]) -> None:
        settled = self._settled(planned.name)
        if settled is not None:
            self._settle(JobOutcome.recorded(settled), sorter)
            return
        state, reason = self._why_not_run(planned)
        if reason:
            self._settle(self._not_run(planned.name, reason, state), sorter)
            return
        task = asyncio.ensure_future(self._run_job(planned))
        task.add_done_callback(self.ended.put_nowait)
        self.tasks[task] = planned.name

    def _not_run(
        self,
        name: str,
        reason: str,
        state: JobState = JobState.NOT_RUN,
        flag: JobFlag | None = None,
    ) -> JobOutcome:
        self.ctx.recorder.mark_not_run(self.ctx.run_id, name, reason, state)
        if flag is not None:
            self.ctx.recorder.flag_job(self.ctx.run_id, name, flag.value, reason)
        self.ctx.observe(JobEvent(name, state, reason=reason, flag=flag))
        return JobOutcome(name, state, reason=reason)

    def _settle(self, outcome: JobOutcome, sorter: graphlib.TopologicalSorter[str]) -> None:
        self.outcomes[outcome.name] = outcome
        sorter.done(outcome.name)

    async def _collect(self, sorter: graphlib.TopologicalSorter[str]) -> None:
        done = [await self.ended.get()]
        while not self.ended.empty():
            done.append(self.ended.get_nowait())
        for task in done:
            name = self.tasks.pop(task, None)
            if name is None:
                continue  # already collected by _abandon
            if task.cancelled():  # interrupted before its first step: it never started
                self._settle(self._not_run(name, "run interrupted before it started"), sorter)
                continue
            if task.exception() is not None:
                await self._abandon()
            self._settle(task.result(), sorter)
            self.on_outcome(task.result())

    async def _abandon(self) -> None:
        """A job hit an error the run cannot go on from (the journal or a log file failed):
        stop the others the way an interrupt does, and let the error through once they ended."""
        self.interrupt()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()

    def _why_not_run(self, planned: PlannedJob) -> tuple[JobState, str]:
        """NOT_RUN or SKIPPED with the reason, or a reason of "" when the job may start."""
        if self.interrupted:
            return JobState.NOT_RUN, "run interrupted before it started"
        agent = self.agents[planned.job.agent]
        if not agent.enabled:
            return JobState.NOT_RUN, f"agent {agent.name} has communication disabled"
        unmet_deps = [unmet(dep, self.outcomes[dep.job]) for dep in planned.depends_on]
        reasons = [reason for reason in unmet_deps if reason[1]]
        hard = [reason for reason in reasons if reason[0] is JobState.NOT_RUN]
        return (hard or reasons or [(JobState.NOT_RUN, "")])[0]

    def _settled(self, name: str) -> JobRunRecord | None:
        """The recorded attempt that is the job's outcome: it ended and is not started again
        (an interrupted run begins no retry either; a rerun is decided as any job)."""
        point = self.points[name]
        if point.resume is Resume.SETTLED:
            return point.record
        retry_of = point.record if point.record and point.record.state.finished else None
        return retry_of if self.interrupted and name not in self.rerun else None

    async def _run_job(self, planned: PlannedJob) -> JobOutcome:
        retry = planned.job.retry
        result = AttemptResult(JobState.NOT_RUN, None, "run interrupted before it started")
        point = self.points[planned.name]
        first, record = point.attempt, point.carried_on
        number = 0
        try:
            if point.first_start:
                await wait_for_start(self.ctx, planned)
            for number in range(first, max(first, retry.attempts + 1) + 1):
                result = await self._attempt(planned, number, record if number == first else None)
                if not self._retryable(planned, result, number):
                    break
                await asyncio.sleep(retry.delay)
        except asyncio.CancelledError:
            if result.state is JobState.NOT_RUN:
                return self._not_run(planned.name, result.reason)
        if result.state is JobState.NOT_RUN:  # it missed its latest start
            return self._not_run(planned.name, result.reason, flag=JobFlag.MISSED_START)
        return JobOutcome.of(planned.name, number, result)

    async def _attempt(
        self, planned: PlannedJob, number: int, record: JobRunRecord | None
    ) -> AttemptResult:
        """One attempt; ``record`` is where a resumed run left this attempt."""
        agent = self.agents[planned.job.agent]
        async with self.per_agent[agent.name], self.overall:
            missed = missed_start(self.ctx, planned) if number == 1 and record is None else ""
            if missed:
                return AttemptResult(JobState.NOT_RUN, None, missed)
            task_id = record.task_id if record else None
            attempt = Attempt(
                self.ctx,
                planned,
                number,
                agent,
                self.clients[agent.name],
                task_id=task_id,
                task_ids=self.task_ids,
            )
            if record and record.batch_request_id is not None and record.log_path:
                return await attempt.reattach(record.batch_request_id, Path(record.log_path))
            return await attempt.run()

    def _retryable(self, planned: PlannedJob, result: AttemptResult, number: int) -> bool:
        if result.interrupted or self.interrupted:
            return False
        return retries(planned.job.retry, result.state, result.completion_code, number)


def unmet(dependency: Dependency, outcome: JobOutcome) -> tuple[JobState, str]:
    """Why ``dependency`` can no longer be met by ``outcome`` ("" when it is met), and whether
    that leaves the waiting job NOT_RUN (something went wrong) or SKIPPED (it is not needed:
    a recovery path whose failure did not happen)."""
    state, job = outcome.state, dependency.job
    if state is JobState.SKIPPED:
        if dependency.on is Condition.FINISHED:
            return JobState.SKIPPED, ""
        return JobState.SKIPPED, f"depends on {job}, which was skipped"
    if state is JobState.NOT_RUN:
        return JobState.NOT_RUN, f"depends on {job}, which was not run"
    if state is JobState.RUNNING:
        return JobState.NOT_RUN, f"depends on {job}, which did not end"
    if dependency.on is Condition.OK and state is not JobState.OK:
        return JobState.NOT_RUN, f"depends on {job} ending OK; it ended {state.value}"
    if dependency.on is Condition.FAILED and state is JobState.OK:
        return JobState.SKIPPED, f"runs only if {job} fails; it ended OK"
    return JobState.NOT_RUN, ""
