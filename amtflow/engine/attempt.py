"""One attempt of one job: Start, watch, stream its messages into its log, end or kill it.

The order of writes is what makes a run recoverable: the task id is recorded before the Start is
sent, the batch request id as soon as it comes back, every message in the log as it is read once
the job is seen running (``attemptlog``). A job that has ended by the first look at it gets its
log written once, finished (``JobLog.held``): until then nothing was read from the server that a
crash could lose.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from amtflow import batch
from amtflow.batch import BatchClient, JobStatus
from amtflow.engine import verdict
from amtflow.engine.attemptlog import AttemptLog
from amtflow.engine.context import JobEvent, RunContext
from amtflow.engine.forms import start_request
from amtflow.engine.launch import TaskIdCommit
from amtflow.errors import AmtError, Conflict, NotFound
from amtflow.model import Agent
from amtflow.plan import PlannedJob
from amtflow.properties import masked_text
from amtflow.runs import JobState

MAX_PAGES_PER_READ = 10_000  # GetMessages pages read in one go (10 million messages)


@dataclass(frozen=True)
class AttemptResult:
    """How one attempt ended."""

    state: JobState
    completion_code: int | None
    reason: str = ""
    batch_request_id: int | None = None
    log_path: str | None = None
    interrupted: bool = False  # cut short by a signal (killed, or left running on the server)


class Attempt:
    """Runs one attempt of a planned job on its agent."""

    def __init__(
        self,
        ctx: RunContext,
        planned: PlannedJob,
        number: int,
        agent: Agent,
        client: BatchClient,
        *,
        task_id: str | None = None,
        task_ids: TaskIdCommit | None = None,
    ) -> None:
        self.ctx, self.planned, self.number = ctx, planned, number
        self.task_ids = task_ids or TaskIdCommit(ctx.recorder, ctx.run_id)
        self.agent, self.client = agent, client
        self.repeated = task_id is not None  # a Start sent before, whose answer was never read
        self.task_id = task_id or str(uuid.uuid4())
        self.batch_request_id: int | None = None
        self.logs = AttemptLog(ctx, planned, agent, number)
        self.warned_codes: set[int] = set()

    @property
    def job(self) -> str:
        return self.planned.name

    async def run(self) -> AttemptResult:
        """Start the job and watch it to its end; on cancellation, kill it if the agent allows."""
        interrupted = False
        if not self.repeated:
            interrupted = await self.task_ids.record(self.job, self.number, self.task_id)
        self._emit(JobState.STARTING)
        start = asyncio.ensure_future(self.client.start(start_request(self.planned, self.task_id)))
        answer: JobStatus | AmtError
        try:
            # Shielded: once sent, a Start's answer is worth waiting for, so that an interrupt
            # can still kill the job instead of leaving it unknown on the server.
            answer = await asyncio.shield(start)
        except asyncio.CancelledError:
            interrupted = True
            answer = await _start_answer(start)
        except AmtError as exc:
            return self._not_started(exc)
        if isinstance(answer, AmtError):
            return self._not_started(answer)
        self._open_log(answer.batch_request_id)
        if interrupted:
            return await self._stop_on_interrupt()
        try:
            return await self._watch(answer)
        except asyncio.CancelledError:
            return await self._stop_on_interrupt()
        except AmtError as exc:
            return self._client_gave_up(exc)

    async def reattach(self, batch_request_id: int, log: Path) -> AttemptResult:
        """Watch a job the server already has (after the runner died) to its end.

        The log file is the truth of what was written: its messages are skipped when the job's
        messages are read again from the start, so none is written twice and none is lost.
        """
        self.batch_request_id = batch_request_id
        self.logs.continued(batch_request_id, log)
        self._emit(JobState.RUNNING)
        try:
            status = await self._monitor()
            return await self._watch(status)
        except asyncio.CancelledError:
            return await self._stop_on_interrupt()
        except AmtError as exc:
            return self._client_gave_up(exc)

    def _open_log(self, batch_request_id: int | None) -> None:
        self.batch_request_id = batch_request_id
        self.logs.open(batch_request_id, repeated=self.repeated)
        if batch_request_id is not None:
            self._emit(JobState.RUNNING)

    async def _watch(self, status: JobStatus) -> AttemptResult:
        assert self.batch_request_id is not None
        started = time.monotonic()
        next_read = started + self.ctx.messages_every
        kill_sent_at: float | None = None
        waits = self.ctx.poll.waits()
        while not status.terminal:
            await asyncio.sleep(next(waits))
            status = await self._monitor()
            if not status.terminal:
                self.logs.seen_running()
            now = time.monotonic()
            self._warn_unknown(status)
            if now >= next_read:
                await self._read_messages()
                next_read = now + verdict.read_interval(
                    self.ctx.messages_every, self.ctx.messages_cap, now - started
                )
            overrun = verdict.overrun(self.planned.job.max_run_time, now - started)
            if overrun and kill_sent_at is None and not status.terminal:
                if not self.agent.allow_kill_job:
                    reason = overrun + verdict.no_kill(self.agent.name)
                    return await self._end(status, JobState.FAILED, reason)
                kill_sent_at = await self._request_kill(overrun)
            elif kill_sent_at is not None and now - kill_sent_at > self.ctx.kill_grace:
                reason = f"{overrun}; the server did not confirm the kill"
                return await self._end(status, JobState.FAILED, reason)
        reason = verdict.ended_reason(status, kill_sent_at is not None)
        return await self._end(status, verdict.state_of(status), reason)

    async def _monitor(self) -> JobStatus:
        assert self.batch_request_id is not None
        try:
            return await self.client.monitor(self.batch_request_id)
        except NotFound:
            lost = "the server no longer knows this job (404): it was lost, e.g. in a restart"
            self._note(f"{lost}; amtflow does not start it again by itself")
            return JobStatus(self.batch_request_id, batch.UNDEFINED, "UNDEFINED", lost)

    async def _read_messages(self) -> None:
        assert self.batch_request_id is not None
        if self.logs.unwritable:
            return
        pages = batch.message_pages(
            self.client, self.batch_request_id, self.logs.last_seq, max_pages=MAX_PAGES_PER_READ
        )
        async for page in pages:  # more: true forever cannot hold us here
            self.logs.take(page.messages)
            if not page.more or self.logs.unwritable:
                return
        self._note("stopped reading messages: the server kept saying there were more")

    def _said(self, exc: AmtError) -> str:
        """What a client error says, with the job's secrets masked: its message names the job
        or script (which may come from ``[[ENV:...]]``) and may echo what the server was sent."""
        return masked_text(str(exc), self.planned.request.secrets)

    async def _request_kill(self, why: str) -> float:
        assert self.batch_request_id is not None
        self._note(f"{why}: kill requested")
        try:
            answer = await self.client.kill(self.batch_request_id)
            self._note(f"server answered the kill with {answer.status}")
        except Conflict as exc:
            self._note(f"server refused the kill: {exc}")
        except AmtError as exc:
            self._note(f"kill request failed: {exc}")
        return time.monotonic()

    async def _end(self, status: JobStatus, state: JobState, reason: str) -> AttemptResult:
        try:
            await self._read_messages()
        except AmtError as exc:
            self._note(f"could not read the last messages: {exc}")
        return self._finish(state, status.completion_code, reason)

    def _finish(
        self, state: JobState, code: int | None, reason: str, *, interrupted: bool = False
    ) -> AttemptResult:
        last_seq = self.logs.finish(code, reason)
        if self.logs.error:
            state = JobState.FAILED if state is JobState.OK else state
            reason = f"{reason}; " if reason else ""
            reason += f"its job log could not be written ({self.logs.error})"
        if state.finished:
            self.ctx.recorder.finish_attempt(
                self.ctx.run_id,
                self.job,
                self.number,
                state,
                completion_code=code,
                reason=reason,
                log_path=self.logs.unrecorded_path(),
                last_seq=last_seq,
            )
        elif last_seq is not None:
            self.ctx.recorder.set_last_seq(self.ctx.run_id, self.job, self.number, last_seq)
        self._emit(state, code, reason)
        return self._result(state, code, reason, interrupted=interrupted)

    def _result(
        self, state: JobState, code: int | None, reason: str, *, interrupted: bool
    ) -> AttemptResult:
        path = self.logs.path_text
        return AttemptResult(state, code, reason, self.batch_request_id, path, interrupted)

    def _not_started(self, exc: AmtError) -> AttemptResult:
        reason = f"start failed: {self._said(exc)}"
        self._open_log(None)
        return self._finish(JobState.FAILED, exc.completion_code, reason)

    def _client_gave_up(self, exc: AmtError) -> AttemptResult:
        return self._finish(
            JobState.FAILED, exc.completion_code, f"lost contact: {self._said(exc)}"
        )

    async def _stop_on_interrupt(self) -> AttemptResult:
        """The run was interrupted: kill the job if allowed and wait a bounded time for proof."""
        if not self.agent.allow_kill_job:
            reason = "run interrupted" + verdict.no_kill(self.agent.name)
            self._note(reason)
            self.logs.seen_running()
            self._emit(JobState.RUNNING, None, reason)
            return self._result(JobState.RUNNING, None, reason, interrupted=True)
        await self._request_kill("run interrupted")
        status = await self._await_killed()
        if status is not None and status.completion_code == batch.KILLED:
            return self._finish(
                JobState.KILLED, batch.KILLED, "killed: run interrupted", interrupted=True
            )
        code = status.completion_code if status else None
        state = verdict.state_of(status) if status and status.terminal else JobState.RUNNING
        reason = "run interrupted; the server did not confirm the kill"
        return self._finish(state, code, reason, interrupted=True)

    async def _await_killed(self) -> JobStatus | None:
        deadline = time.monotonic() + self.ctx.kill_grace
        status: JobStatus | None = None
        waits = self.ctx.poll.waits()
        while time.monotonic() < deadline:
            try:
                status = await self._monitor()
                await self._read_messages()
            except AmtError:
                pass
            if status is not None and status.terminal:
                return status
            await asyncio.sleep(min(next(waits), max(0.0, deadline - time.monotonic())))
        return status

    def _warn_unknown(self, status: JobStatus) -> None:
        code = status.completion_code
        if code not in batch.CODES and code not in self.warned_codes:
            self.warned_codes.add(code)
            self._note(f"warning: unknown completion code {code}; treated as not ended")

    def _note(self, text: str) -> None:
        self.logs.note(text)

    def _emit(self, state: JobState, code: int | None = None, reason: str = "") -> None:
        self.ctx.observe(
            JobEvent(self.job, state, self.number, self.batch_request_id, code, reason)
        )


async def _start_answer(start: asyncio.Future[JobStatus]) -> JobStatus | AmtError:
    try:
        return await start
    except AmtError as exc:
        return exc
