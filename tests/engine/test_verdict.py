"""What an attempt's watch decides: message reads, overruns, and how an ended job is judged."""

from __future__ import annotations

import pytest

from amtflow.batch import JobStatus
from amtflow.engine import verdict
from amtflow.runs import JobState


def status(code: int) -> JobStatus:
    return JobStatus(4280, code, "X")


def test_messages_of_a_long_job_are_read_less_often_up_to_the_cap() -> None:
    assert verdict.read_interval(2.0, 60.0, 1.0) == 2.0
    assert verdict.read_interval(2.0, 60.0, 40.0) == 10.0
    assert verdict.read_interval(2.0, 60.0, 3600.0) == 60.0


def test_a_job_overruns_only_past_its_max_run_time() -> None:
    assert verdict.overrun(None, 10**6) == ""
    assert verdict.overrun(90.0, 90.0) == ""
    assert verdict.overrun(90.0, 90.5) == "exceeded its max run time of 1m30s"


@pytest.mark.parametrize(
    ("code", "state", "reason"),
    [
        (4, JobState.OK, ""),
        (11, JobState.FAILED, "ended ERROR (11)"),
        (3, JobState.KILLED, "ended KILLED (3)"),
    ],
)
def test_an_ended_job_is_judged_by_its_completion_code(
    code: int, state: JobState, reason: str
) -> None:
    assert verdict.state_of(status(code)) is state
    assert verdict.ended_reason(status(code), killed_on_overrun=False) == reason


def test_a_job_killed_on_overrun_says_so_and_no_status_is_a_failure() -> None:
    said = verdict.ended_reason(status(3), killed_on_overrun=True)
    assert said == "killed after it exceeded its max run time; ended KILLED (3)"
    assert verdict.ended_reason(status(4), killed_on_overrun=True) == ""
    assert verdict.state_of(None) is JobState.FAILED
    assert "agent A does not allow kill" in verdict.no_kill("A")
