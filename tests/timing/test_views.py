"""The run views show a job waiting for its start time and a late job."""

from __future__ import annotations

from rich.console import Console

from amtflow.engine.context import JobEvent, JobFlag
from amtflow.report.runview import LiveView
from amtflow.runs import JobState


def _shown(view: LiveView) -> str:
    console = Console(record=True, width=200)
    console.print(view._render())
    return console.export_text()


def test_live_view_shows_waiting_until_and_late() -> None:
    view = LiveView(["REPORTS", "LOAD", "OTHER"])
    view(JobEvent("REPORTS", JobState.PENDING, reason="waiting until 06:30", flag=JobFlag.WAITING))
    view(JobEvent("LOAD", JobState.RUNNING, attempt=1, batch_request_id=4281))
    view(
        JobEvent(
            "LOAD", JobState.RUNNING, reason="not ended by its deadline 07:30", flag=JobFlag.LATE
        )
    )
    text = _shown(view)
    reports = next(line for line in text.splitlines() if "REPORTS" in line)
    load = next(line for line in text.splitlines() if "LOAD" in line)
    assert "waiting until 06:30" in reports
    assert "running late" in load and "4281" in load
    assert "OTHER" not in text  # pending, not waiting: not a row of its own
    view(JobEvent("REPORTS", JobState.RUNNING, attempt=1, batch_request_id=4282))
    reports = next(line for line in _shown(view).splitlines() if "REPORTS" in line)
    assert "waiting" not in reports and "running" in reports


def test_live_view_shows_a_job_waiting_for_its_retry_or_held_as_such() -> None:
    view = LiveView(["FLAKY", "LATER"])
    view(JobEvent("FLAKY", JobState.RUNNING, attempt=1, batch_request_id=4280))
    view(JobEvent("FLAKY", JobState.FAILED, attempt=1, batch_request_id=4280, completion_code=11))
    view(JobEvent("FLAKY", JobState.PENDING, attempt=2, reason="retry in 25s, attempt 2 of 3"))
    view(JobEvent("LATER", JobState.PENDING, reason="held by alice at 2026-11-24T02:00:00Z"))
    lines = _shown(view).splitlines()
    flaky = next(line for line in lines if "FLAKY" in line)
    later = next(line for line in lines if "LATER" in line)
    assert "retry in 25s, attempt 2 of 3" in flaky and "failed" not in flaky
    assert "held by alice" in later
