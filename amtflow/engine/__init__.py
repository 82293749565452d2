"""The engine: runs a plan's jobs as their dependencies allow, within the concurrency limits.

``graphlib.TopologicalSorter`` drives it: each job that becomes ready either starts (within its
agent's ``max_concurrent_jobs`` and the run's ``max_parallel``) or, when a dependency can no longer
be met, is marked not run with the reason. Nothing waits forever: every job ends in a state.

A ready job gets its asyncio task when its agent has room (``ReadyQueue``), or at once when it
first waits outside the slots (its start time, an operator's hold): the tasks alive are bounded
by the concurrency limits, not by the size of the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import graphlib
from collections.abc import Callable, Collection, Mapping

from amtflow.batch import BatchClient
from amtflow.engine import collector
from amtflow.engine.context import JobEvent, JobFlag, RunContext
from amtflow.engine.dependencies import dependents_of, why_not_run
from amtflow.engine.jobrun import JobRun, Lanes, start_ahead
from amtflow.engine.launch import ReadyQueue, TaskIdCommit
from amtflow.engine.operator import OperatorDesk, held_back_by
from amtflow.engine.resume import resume_points, settled_record
from amtflow.engine.timing import Deadlines
from amtflow.model import Agent
from amtflow.operator import OperatorAction, OperatorRecord
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
        self.outcomes: dict[str, JobOutcome] = {}
        self.tasks: dict[asyncio.Task[JobOutcome], str] = {}
        self.running: set[str] = set()  # the names in ``tasks``: asked per ready job, O(1)
        # Ended tasks queue themselves and wake the run: waiting on thousands of tasks at once
        # with asyncio.wait would register a callback on each of them every time one ends.
        self.ended: list[asyncio.Task[JobOutcome]] = []
        self.wake = asyncio.Event()  # a task ended, room was made, or the run was interrupted
        self.queue = ReadyQueue(
            {name: min(agent.max_concurrent_jobs, max_parallel) for name, agent in agents.items()},
            self.wake.set,
        )
        self.interrupted = False
        self.desk = OperatorDesk(ctx.operator_actions, ctx.operator_tick)
        self.dependents = dependents_of(plan.jobs)
        self.sorter = self._sorter()
        self.lanes = Lanes(
            ctx,
            agents,
            clients,
            per_agent={
                name: asyncio.Semaphore(agent.max_concurrent_jobs) for name, agent in agents.items()
            },
            overall=asyncio.Semaphore(max_parallel),
            queue=self.queue,
            desk=self.desk,
            points=self.points,
            rerun=self.rerun,
            task_ids=TaskIdCommit(ctx.recorder, ctx.run_id),
            interrupted=lambda: self.interrupted,
            not_run=self._not_run,
        )

    def _sorter(self) -> graphlib.TopologicalSorter[str]:
        """A sorter over the whole plan; jobs already settled are marked done as they turn
        ready (a new one replaces the old when an operator's action re-decides not-run jobs)."""
        sorter = graphlib.TopologicalSorter(
            {job.name: [dep.job for dep in job.depends_on] for job in self.plan.jobs}
        )
        sorter.prepare()
        return sorter

    async def run(self) -> dict[str, JobOutcome]:
        """Run every job of the plan (carrying on from ``resume`` records) to an outcome each."""
        self.desk.take_new()  # what operators did before this runner (a resumed run honours it)
        deadlines = Deadlines(self.ctx, ended=self.outcomes.__contains__)
        deadlines.watch(self.plan.jobs, self._state_of)
        # the state changes of one loop tick share a commit (state/group.py)
        grouped = self.ctx.recorder.grouped(asyncio.get_running_loop().call_soon)
        try:
            with grouped, collector.quieter():
                await self._run_ready()
        finally:
            deadlines.stop()
        if deadlines.error is not None:
            raise deadlines.error
        late = deadlines.late
        return {
            job.name: (
                dataclasses.replace(self.outcomes[job.name], late=late[job.name])
                if job.name in late
                else self.outcomes[job.name]
            )
            for job in self.plan.jobs
        }

    async def _run_ready(self) -> None:
        while self.sorter.is_active():
            for name in self.sorter.get_ready():
                self._ready(name)
            self._launch_queued()
            if self.tasks:
                await self._collect()
            elif not self.sorter.is_active():
                self._follow_operator()  # a mark-ok that came as the last job ended

    def _state_of(self, name: str) -> JobState:
        return JobState.RUNNING if name in self.running else JobState.PENDING

    def interrupt(self) -> None:
        """Stop launching jobs and cancel the running ones (they kill their AMT job if allowed)."""
        self.interrupted = True
        for task in self.tasks:
            task.cancel()
        self.wake.set()  # the jobs waiting for room are settled not run

    def _ready(self, name: str) -> None:
        if name in self.outcomes:  # settled before this sorter was made
            self.sorter.done(name)
        elif name not in self.running and name not in self.queue:  # done when it ends
            self._launch(self.plan.job(name))  # type: ignore[arg-type]

    def _launch(self, planned: PlannedJob) -> None:
        settled = settled_record(
            self.points[planned.name],
            marked_ok=planned.name in self.desk.view.marked_ok,
            rerun=planned.name in self.rerun,
            interrupted=self.interrupted,
        )
        if settled is not None:
            self._settle(JobOutcome.recorded(settled))
            return
        skip = self.desk.view.skipped.get(planned.name)
        if skip is not None and self.points[planned.name].first_start:
            self._settle(self._not_run(planned.name, skip.said, JobState.SKIPPED))
            return
        state, reason = self._why_not_run(planned)
        if reason:
            self._settle(self._not_run(planned.name, reason, state))
        elif self._waits_first(planned):
            self._spawn(planned)  # it waits outside the slots: its wait is shown from now
        else:
            self.queue.add(planned.name, planned.job.agent)

    def _waits_first(self, planned: PlannedJob) -> bool:
        """Whether a job's first step is a wait outside the slots: for its start time, or
        while an operator holds it."""
        if not self.points[planned.name].first_start:
            return False
        return start_ahead(self.ctx, planned) or planned.name in self.desk.view.held

    def _launch_queued(self) -> None:
        """A task for each job waiting whose agent has room; none once the run is interrupted
        (the waiting jobs are then not run)."""
        if self.interrupted:
            for name in self.queue.clear():
                self._settle(self._not_run(name, "run interrupted before it started"))
            return
        for name in self.queue.take():
            self._spawn(self.plan.job(name))  # type: ignore[arg-type]

    def _spawn(self, planned: PlannedJob) -> None:
        task = asyncio.ensure_future(JobRun(self.lanes, planned).outcome())
        task.add_done_callback(self._ended)
        self.tasks[task] = planned.name
        self.running.add(planned.name)

    def _ended(self, task: asyncio.Task[JobOutcome]) -> None:
        self.ended.append(task)
        self.wake.set()

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

    def _settle(self, outcome: JobOutcome) -> None:
        counted = self.desk.view.counted_ok(outcome.name)
        if counted is not None and outcome.state not in (JobState.OK, JobState.RUNNING):
            outcome = dataclasses.replace(outcome, operator=counted)
        self.outcomes[outcome.name] = outcome
        with contextlib.suppress(ValueError):  # not ready in a new sorter: done when it is
            self.sorter.done(outcome.name)

    async def _collect(self) -> None:
        if not self.ended:
            await self._woken()
        self.wake.clear()
        done, self.ended = self.ended, []
        for task in done:
            name = self.tasks.pop(task, None)
            if name is None:
                continue  # already collected by _abandon
            self.running.discard(name)
            self.queue.leave(name)
            if task.cancelled():  # interrupted before its first step: it never started
                self._settle(self._not_run(name, "run interrupted before it started"))
                continue
            if task.exception() is not None:
                await self._abandon()
            self._settle(task.result())
            self.on_outcome(task.result())
        self._follow_operator()

    async def _woken(self) -> None:
        """Wait for a task to end, room to be made or an interrupt, at most an operator tick
        (new operator actions are read then)."""
        if self.wake.is_set():
            return
        timer = asyncio.get_running_loop().call_later(self.ctx.operator_tick, self.wake.set)
        try:
            await self.wake.wait()
        finally:
            timer.cancel()

    def _follow_operator(self) -> None:
        """Read the operator's new actions; a skip or mark-ok of a settled job lets the jobs not
        run because of it be decided again (held tasks wake up by themselves)."""
        for record in self.desk.take_new(now=not self.sorter.is_active()):
            outcome = self.outcomes.get(record.job)
            if outcome is None or outcome.operator is not None:
                continue  # not settled yet: ``_settle`` applies it
            if record.action is OperatorAction.MARK_OK and outcome.state in _MARKABLE:
                self._counted_ok(outcome, record, outcome.state)
            elif record.action is OperatorAction.SKIP and outcome.attempts == 0:
                self.ctx.recorder.mark_not_run(
                    self.ctx.run_id, record.job, record.said, JobState.SKIPPED
                )
                self._counted_ok(outcome, record, JobState.SKIPPED)

    def _counted_ok(self, outcome: JobOutcome, record: OperatorRecord, state: JobState) -> None:
        reason = outcome.reason if state is outcome.state else record.said
        self.outcomes[record.job] = dataclasses.replace(
            outcome, state=state, reason=reason, operator=record
        )
        self.ctx.observe(JobEvent(record.job, state, outcome.attempts, reason=record.said))
        again = self._not_run_after(record.job)
        if again:
            for name in again:
                del self.outcomes[name]
            self.sorter = self._sorter()

    def _not_run_after(self, name: str) -> set[str]:
        """The jobs not run because of ``name``, directly or through each other."""

        def not_run(job: str) -> bool:
            outcome = self.outcomes.get(job)
            return (
                outcome is not None
                and outcome.state is JobState.NOT_RUN
                and outcome.attempts == 0
                and outcome.operator is None
            )

        return held_back_by(name, self.dependents, not_run)

    async def _abandon(self) -> None:
        """A job hit an error the run cannot go on from (the journal or a log file failed):
        stop the others the way an interrupt does, and let the error through once they ended."""
        self.interrupt()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        self.running.clear()

    def _why_not_run(self, planned: PlannedJob) -> tuple[JobState, str]:
        """NOT_RUN or SKIPPED with the reason, or a reason of "" when the job may start."""
        if self.interrupted:
            return JobState.NOT_RUN, "run interrupted before it started"
        return why_not_run(planned, self.agents[planned.job.agent], self.outcomes)


_MARKABLE = (JobState.FAILED, JobState.KILLED)
