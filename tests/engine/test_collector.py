"""The garbage collector while a run's engine runs (``engine/collector.py``): long-lived objects
frozen, young ones collected less often; all as before once the last engine is done."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from amtflow.batch import JobStatus, StartRequest
from amtflow.engine import collector
from amtflow.errors import UsageError
from amtflow.orchestration import schedule_date
from amtflow.orchestration.drive import RunOptions
from tests.engine.fake import FakeServer
from tests.engine.test_engine import DATE, definitions, job, run


@pytest.fixture(autouse=True)
def plain_collector() -> Iterator[None]:
    gc.unfreeze()
    before = gc.get_threshold()
    yield
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_within_long_lived_objects_are_frozen_and_young_ones_collected_less_often() -> None:
    before = gc.get_threshold()
    with collector.quieter():
        assert gc.get_threshold() == (collector.YOUNG, collector.OLDER, collector.OLDER)
        assert gc.get_freeze_count() > 1000  # this test session's modules, at least
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_cyclic_garbage_made_within_is_still_collected() -> None:
    class Node:
        pass

    with collector.quieter():
        node = Node()
        node.self = node  # type: ignore[attr-defined]
        del node
        assert gc.collect() >= 1  # a full collection still finds it


def test_overlapping_runs_settle_the_collector_once_the_last_one_ends() -> None:
    before = gc.get_threshold()
    first, second = collector.quieter(), collector.quieter()
    first.__enter__()
    made_meanwhile = [object() for _ in range(10)]  # e.g. the plan, made inside the outer part
    frozen = gc.get_freeze_count()
    second.__enter__()
    assert gc.get_freeze_count() > frozen  # what the outer part made is frozen too
    first.__exit__(None, None, None)  # the first to begin ends first
    assert gc.get_threshold()[0] == collector.YOUNG
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
    assert made_meanwhile


def test_a_run_failing_inside_still_gives_the_collector_back() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collector.quieter():
        raise RuntimeError("boom")
    assert gc.get_threshold() == before


class ThresholdServer(FakeServer):
    """Remembers the collector's thresholds each Start was sent under."""

    seen: list[tuple[int, int, int]]

    def start(self, request: StartRequest) -> JobStatus:
        self.seen.append(gc.get_threshold())
        return super().start(request)


async def test_the_engine_runs_its_jobs_under_the_quieter_collector(tmp_path: Path) -> None:
    server = ThresholdServer()
    server.seen = []
    before = gc.get_threshold()
    outcomes, _ = await run(server, definitions(job("A"), job("B", "A")), tmp_path)
    assert all(outcome.ok for outcome in outcomes.values())
    assert server.seen == [(collector.YOUNG, collector.OLDER, collector.OLDER)] * 2
    assert gc.get_threshold() == before


async def test_a_run_loads_and_plans_under_the_quieter_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int, int]] = []

    def refused(options: RunOptions) -> None:
        seen.append(gc.get_threshold())
        raise UsageError("stop here")

    monkeypatch.setattr(schedule_date, "_schedule_of", refused)
    options = RunOptions(tmp_path / "d.yaml", DATE, tmp_path / "logs", tmp_path / "state")
    before = gc.get_threshold()
    with pytest.raises(UsageError):
        await schedule_date.run_schedule(options)
    assert seen == [(collector.YOUNG, collector.OLDER, collector.OLDER)]
    assert gc.get_threshold() == before
