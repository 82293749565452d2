"""A job's time window in a run: wait for its start time, refuse a start past its latest start,
flag it late when its deadline passes before it ended.

Each of these moments is one ``JobEvent`` with a ``JobFlag`` (what notifications hook on) and one
mark in the journal (what status and reports read back).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from amtflow.engine.context import JobEvent, JobFlag, RunContext
from amtflow.errors import AmtflowError
from amtflow.plan import PlannedJob
from amtflow.runs import JobState
from amtflow.timeofday import shown_time

MISSED_START = "missed its latest start"  # how a reason for it begins (reports look for it)
MAX_NAP_S = 60.0  # a long wait wakes up this often to read the wall clock again (NTP, suspend)


async def wait_for_start(ctx: RunContext, planned: PlannedJob) -> None:
    """Sleep until the job's start time, if it is still ahead; say so first."""
    not_before = planned.times.not_before
    if not_before is None or ctx.now() >= not_before:
        return
    detail = f"waiting until {shown_time(not_before, ctx.date)}"
    ctx.recorder.flag_job(ctx.run_id, planned.name, JobFlag.WAITING.value, not_before.isoformat())
    ctx.observe(JobEvent(planned.name, JobState.PENDING, reason=detail, flag=JobFlag.WAITING))
    while (left := (not_before - ctx.now()).total_seconds()) > 0:
        await asyncio.sleep(min(left, MAX_NAP_S))


def missed_start(ctx: RunContext, planned: PlannedJob) -> str:
    """Why the job may no longer start (its latest start has passed), or ""."""
    latest = planned.times.latest_start
    if latest is None or ctx.now() <= latest:
        return ""
    return f"{MISSED_START} {shown_time(latest, ctx.date)}"


class Deadlines:
    """Flags each job late whose deadline passes before it ended; the job goes on."""

    def __init__(self, ctx: RunContext, ended: Callable[[str], bool]) -> None:
        self.ctx, self.ended = ctx, ended
        self.late: dict[str, str] = {}
        self.handles: list[asyncio.TimerHandle] = []
        self.error: AmtflowError | None = None  # the journal failed in a timer: raised by the run

    def watch(self, jobs: tuple[PlannedJob, ...], state_of: Callable[[str], JobState]) -> None:
        """Arm a timer for every job with a deadline (one already past fires at once)."""
        loop = asyncio.get_running_loop()
        for planned in jobs:
            deadline = planned.times.deadline
            if deadline is not None:
                delay = max(0.0, (deadline - self.ctx.now()).total_seconds())
                self.handles.append(loop.call_later(delay, self._due, planned, state_of))

    def _due(self, planned: PlannedJob, state_of: Callable[[str], JobState]) -> None:
        deadline = planned.times.deadline
        if self.ended(planned.name) or deadline is None:
            return
        if self.ctx.now() < deadline:  # the loop's clock ran ahead of the wall clock
            delay = (deadline - self.ctx.now()).total_seconds()
            self.handles.append(
                asyncio.get_running_loop().call_later(delay, self._due, planned, state_of)
            )
            return
        reason = f"not ended by its deadline {shown_time(deadline, self.ctx.date)}"
        self.late[planned.name] = reason
        try:
            self.ctx.recorder.flag_job(self.ctx.run_id, planned.name, JobFlag.LATE.value, reason)
        except AmtflowError as exc:  # a timer has no caller to raise to: the run raises it
            self.error = self.error or exc
        state = state_of(planned.name)
        self.ctx.observe(JobEvent(planned.name, state, reason=reason, flag=JobFlag.LATE))

    def stop(self) -> None:
        for handle in self.handles:
            handle.cancel()
