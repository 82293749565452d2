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
    cap: float = 8.0

    def waits(self) -> Iterator[float]:
        wait = self.first
        while True:
            yield wait
            wait = min(self.cap, wait * self.factor)
