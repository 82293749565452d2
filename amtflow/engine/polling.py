"""Adaptive watching: how long to wait before asking the server about a job again.

A fresh job is asked about soon, so a short job's end is seen in well under a second; the wait
then grows geometrically up to a cap, so a long job costs the server few requests. The vendor
connector's fixed policy (first look after 10 s, then every 5 s) is the baseline to beat.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class PollPolicy:
    """Waits between status requests: ``first``, then times ``factor`` each time, up to ``cap``."""

    first: float = 0.1
    factor: float = 1.4
    cap: float = 10.0

    def waits(self) -> Iterator[float]:
        wait = self.first
        while True:
            yield wait
            wait = min(self.cap, wait * self.factor)


def vendor_waits() -> Iterator[float]:
    """The vendor connector's waits: 10 s, then 5 s forever."""
    yield 10.0
    while True:
        yield 5.0


def seen_after(duration: float, waits: Iterator[float]) -> tuple[float, int]:
    """When a job lasting ``duration`` seconds is seen ended, and after how many status requests.

    Ignores request latency: a pure model of a policy, used by the polling benchmark.
    """
    elapsed, requests = 0.0, 0
    for wait in waits:
        elapsed += wait
        requests += 1
        if elapsed >= duration:
            return elapsed - duration, requests
    raise AssertionError("unreachable: waits never end")
