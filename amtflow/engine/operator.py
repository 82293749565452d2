"""The operator's actions as a running engine follows them: hold, release, skip, mark OK.

They come from the journal (``amtflow hold`` and the others write them from any terminal); the
engine reads the new ones on each scheduling tick. A held job's task waits here, outside the
concurrency slots, until it is released or skipped; a job waiting for its retry stops waiting when
it is marked OK. The journal makes the race with a Start definite (``state.actions``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence

from amtflow.operator import OperatorRecord, OperatorView


class OperatorDesk:
    """The actions read so far, and a wake-up for the tasks that wait on them."""

    def __init__(self, read: Callable[[int], list[OperatorRecord]], tick: float = 0.5) -> None:
        self.read, self.tick = read, tick
        self.last_read = float("-inf")  # monotonic time of the last read
        self.records: list[OperatorRecord] = []
        self.view = OperatorView()
        self.changed = asyncio.Event()

    def take_new(self, *, now: bool = True) -> list[OperatorRecord]:
        """Read the actions recorded since the last read; wake the waiting tasks if any.

        ``now`` False reads at most once a tick (a run whose jobs end by the thousand does not
        query the journal for each)."""
        clock = time.monotonic()
        if not now and clock - self.last_read < self.tick:
            return []
        self.last_read = clock
        after = self.records[-1].seq if self.records else 0
        new = self.read(after)
        if new:
            self.records += new
            self.view = OperatorView.of(self.records)
            self.changed.set()
            self.changed = asyncio.Event()
        return new

    async def until_released(
        self, job: str, on_hold: Callable[[OperatorRecord], None]
    ) -> OperatorRecord | None:
        """Wait while ``job`` is held (telling ``on_hold`` once per hold); then None, or the
        skip that ends it."""
        told: OperatorRecord | None = None
        while True:
            skip = self.view.skipped.get(job)
            if skip is not None:
                return skip
            held = self.view.held.get(job)
            if held is None:
                return None
            if held is not told:
                on_hold(held)
                told = held
            await self.changed.wait()

    async def retry_wait(self, job: str, delay: float) -> OperatorRecord | None:
        """Sleep ``delay`` seconds before a retry; the mark-ok that cut it short, if any."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        while job not in self.view.marked_ok and (left := deadline - loop.time()) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        return self.view.marked_ok.get(job)


def held_back_by(
    job: str, dependents: Mapping[str, Sequence[str]], not_run: Callable[[str], bool]
) -> set[str]:
    """The jobs ``not_run`` because of ``job``, directly or through each other: the ones to
    decide again once an operator makes ``job`` count as ended OK."""
    found: set[str] = set()
    todo = list(dependents.get(job, ()))
    while todo:
        name = todo.pop()
        if name not in found and not_run(name):
            found.add(name)
            todo += dependents.get(name, ())
    return found
