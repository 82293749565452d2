"""What an attempt's watch decides, as pure functions: when a job's messages are read next,
whether it overran its max run time, and the state and reason it ended with."""

from __future__ import annotations

from amtflow import batch
from amtflow.batch import JobStatus
from amtflow.runs import JobState
from amtflow.timeofday import format_duration
from amtflow.wording import code_text


def read_interval(every: float, cap: float, elapsed: float) -> float:
    """Messages of a long job are read less often, like its status (at most every ``cap``)."""
    return min(cap, max(every, elapsed / 4))


def overrun(max_run_time: float | None, elapsed: float) -> str:
    """Why a job that ran ``elapsed`` seconds has overrun, or "" while it has not."""
    if max_run_time is None or elapsed <= max_run_time:
        return ""
    return f"exceeded its max run time of {format_duration(max_run_time)}"


def no_kill(agent: str) -> str:
    return f"; agent {agent} does not allow kill: the job goes on on the server"


def ended_reason(status: JobStatus, killed_on_overrun: bool) -> str:
    """The reason an ended job's outcome gives ("" when it ended OK)."""
    if status.ok:
        return ""
    prefix = "killed after it exceeded its max run time; " if killed_on_overrun else ""
    return f"{prefix}ended {code_text(status.completion_code)}"


def state_of(status: JobStatus | None) -> JobState:
    """The state an ended job's last status gives it."""
    if status is None:
        return JobState.FAILED
    if status.ok:
        return JobState.OK
    return JobState.KILLED if status.completion_code == batch.KILLED else JobState.FAILED
