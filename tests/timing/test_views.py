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
