"""Whether a dependency is met, as a table (``engine/dependencies.py``: pure)."""

from __future__ import annotations

import pytest

from amtflow.engine.dependencies import unmet
from amtflow.model import Condition, Dependency
from amtflow.runs import JobOutcome, JobState

OK, FAILED, KILLED = JobState.OK, JobState.FAILED, JobState.KILLED
NOT_RUN, SKIPPED, RUNNING = JobState.NOT_RUN, JobState.SKIPPED, JobState.RUNNING


@pytest.mark.parametrize(
    ("on", "ended", "state", "reason"),
    [
        (Condition.OK, OK, NOT_RUN, ""),
        (Condition.OK, FAILED, NOT_RUN, "depends on A ending OK; it ended failed"),
        (Condition.OK, KILLED, NOT_RUN, "depends on A ending OK; it ended killed"),
        (Condition.FAILED, FAILED, NOT_RUN, ""),
        (Condition.FAILED, OK, SKIPPED, "runs only if A fails; it ended OK"),
        (Condition.FINISHED, FAILED, NOT_RUN, ""),
        (Condition.FINISHED, OK, NOT_RUN, ""),
        (Condition.FINISHED, SKIPPED, SKIPPED, ""),
        (Condition.OK, SKIPPED, SKIPPED, "depends on A, which was skipped"),
        (Condition.FINISHED, NOT_RUN, NOT_RUN, "depends on A, which was not run"),
        (Condition.FAILED, RUNNING, NOT_RUN, "depends on A, which did not end"),
    ],
)
def test_a_dependency_is_met_or_says_why_not(
    on: Condition, ended: JobState, state: JobState, reason: str
) -> None:
    assert unmet(Dependency("A", on), JobOutcome("A", ended)) == (state, reason)
