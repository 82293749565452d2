"""The run's views under many jobs: plain lines written in batches, in order, all by the end;
the live view's counts and rows kept as events come (a refresh never walks the whole run)."""

from __future__ import annotations

import asyncio

import pytest

from amtflow.engine.context import JobEvent
from amtflow.report import runview
from amtflow.report.runview import LiveView, PlainView
from amtflow.runs import JobState


async def test_plain_lines_of_a_burst_are_written_together_in_order_and_all_by_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writes: list[str] = []
    monkeypatch.setattr(runview, "plain", writes.append)
    with PlainView(every=0.05) as view:
        for i in range(100):
            view(JobEvent(f"J{i:03d}", JobState.RUNNING, 1, 4000 + i))
        assert writes == []  # none yet: the burst is gathered
        await asyncio.sleep(0.2)
        assert len(writes) == 1
        assert [line.split()[1] for line in writes[0].splitlines()] == [
            f"J{i:03d}" for i in range(100)
        ]
        view(JobEvent("J000", JobState.OK, 1, 4000, completion_code=4))
    assert len(writes) == 2 and writes[1].split()[1:4] == ["J000", "ok", "R:4000"]


def test_plain_lines_outside_an_event_loop_are_written_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writes: list[str] = []
    monkeypatch.setattr(runview, "plain", writes.append)
    view = PlainView()
    view(JobEvent("A", JobState.NOT_RUN, reason="run interrupted before it started"))
    assert len(writes) == 1 and "A not run - run interrupted" in writes[0]


def test_the_live_view_counts_and_rows_follow_many_jobs() -> None:
    names = [f"J{i:04d}" for i in range(1000)]
    view = LiveView(names, max_rows=15)
    for number, name in enumerate(names):
        view(JobEvent(name, JobState.RUNNING, 1, 4000 + number))
        if number >= 5:  # five stay in flight
            done = names[number - 5]
            state = JobState.FAILED if number % 100 == 0 else JobState.OK
            view(JobEvent(done, state, 1, 4000 + number - 5, completion_code=4))
    assert view.counts[JobState.RUNNING] == 5 and view.counts[JobState.PENDING] == 0
    assert view.counts[JobState.OK] + view.counts[JobState.FAILED] == 995
    assert view.counts[JobState.FAILED] == 9  # 100, 200 ... 900
    rows = view._rows()
    assert rows[:5] == names[-5:]  # in flight first
    assert rows[5:] == list(reversed(names[-15:-5]))  # then the last to end, latest first
    view(JobEvent(names[-1], JobState.OK, 1, 4999, completion_code=4))
    assert view._rows()[4] == names[-1] and view.counts[JobState.RUNNING] == 4
    # only the jobs in flight and the last 15 to end keep their last event and time: a run of
    # 100,000 jobs does not keep 100,000 events for a table of 15 rows
    kept = set(view.shown_now) | set(view.ended)
    assert set(view.events) == set(view.since) == kept and len(kept) == 4 + 15
    assert all(view._row(name) for name in view._rows())
