"""How hard the client tries: retry budget, back-off, timeouts and size limits."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Retry and timeout settings of one client.

    A call is tried at most ``max_attempts`` times and gives up early rather than spend past
    ``budget`` seconds in total (the server's time, see ``Spent``: not the time a busy machine
    kept this process from running). Delays use capped exponential back-off with equal jitter (each
    wait is between half and all of its ceiling), so the attempts always span at least half the
    sum of the ceilings: a server restart shorter than that is survived whatever the dice say
    (full jitter could spend every attempt in the first second of an outage). A
    ``Retry-After`` is honoured up to ``retry_after_cap`` seconds.
    """

    max_attempts: int = 8
    budget: float = 120.0
    base_delay: float = 0.5
    max_delay: float = 30.0
    retry_after_cap: float = 60.0
    request_timeout: float = 30.0
    connect_timeout: float = 10.0
    max_body: int = 16 * 1024 * 1024
    max_pages: int = 100  # GetMessages pages per iter_messages() call

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Equal-jitter delay after the ``attempt``-th failure (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return rng.uniform(ceiling / 2, ceiling)

    def least_span(self) -> float:
        """The shortest time all attempts of one call can take: an outage shorter than this
        is always survived (the budget permitting)."""
        ceilings = (
            min(self.max_delay, self.base_delay * 2.0**n)
            for n in range(max(0, self.max_attempts - 1))
        )
        return min(self.budget, sum(ceilings) / 2)

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """The wait before the next attempt: back-off, but at least a (capped) Retry-After."""
        wait = self.backoff(attempt, rng)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.retry_after_cap))
        return wait


@dataclass
class Spent:
    """What one call has cost so far, charged against its policy's budget and attempts.

    Each failed attempt is charged its time less the time the event loop ran late meanwhile
    (``client/lag.py``), capped at the request timeout; each back-off wait as planned. A timeout
    during which the loop lagged by half the request timeout or more says more about this
    process than about the server: it is retried without counting as an attempt, at most
    ``max_attempts`` times per call, so a starved runner still gives up in bounded time.
    """

    policy: RetryPolicy
    seconds: float = 0.0
    tries: int = 0
    excused: int = 0

    def failed(self, elapsed: float, lag: float, *, timed_out: bool) -> int:
        """Charge one failed attempt; 1 when it counts against ``max_attempts``, else 0."""
        self.tries += 1
        self.seconds += min(max(0.0, elapsed - lag), self.policy.request_timeout)
        starved = timed_out and lag >= self.policy.request_timeout / 2
        if starved and self.excused < self.policy.max_attempts:
            self.excused += 1
            return 0
        return 1

    def allows(self, wait: float) -> bool:
        """Whether a wait of ``wait`` seconds still fits the budget (and charge it if so)."""
        if self.seconds + wait > self.policy.budget:
            return False
        self.seconds += wait
        return True


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header; HTTP dates and junk count as absent."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if math.isnan(seconds) or seconds < 0:
        return None
    return seconds
