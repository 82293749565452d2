"""Faults the simulator injects on demand; change them at any time, even while it runs."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field


@dataclass
class Faults:
    """Mutable fault settings; shares are probabilities per call, drawn from a seeded RNG.

    ``paths`` limits the faults to calls whose path starts with one of its prefixes (empty:
    every call, ``/api/status`` included).
    """

    error_rate: float = 0.0  # answer one of ``error_statuses``
    error_statuses: tuple[int, ...] = (500, 503)
    throttle_rate: float = 0.0  # answer 429 with Retry-After
    retry_after: float | None = 1.0  # seconds sent with 429 and 503 answers
    drop_rate: float = 0.0  # close the connection without an answer
    drop_after_start_rate: float = 0.0  # accept a new Start, then drop its answer
    garble_rate: float = 0.0  # answer 200 with a truncated JSON body
    slow_rate: float = 0.0  # answer after ``slow_seconds``
    slow_seconds: float = 0.0
    token_lifetime: float | None = None  # tokens die after this, whatever expiresIn said
    paths: tuple[str, ...] = ()
    seed: int = 0
    down_until: float = 0.0  # time.monotonic() until which every call is dropped
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def reseed(self, seed: int) -> None:
        self.seed, self.rng = seed, random.Random(seed)

    def applies(self, path: str) -> bool:
        return not self.paths or path.startswith(self.paths)

    def roll(self, share: float) -> bool:
        """True with probability ``share``."""
        return share > 0 and self.rng.random() < share

    def go_down(self, seconds: float) -> None:
        """Drop every call for ``seconds`` (a restart)."""
        self.down_until = time.monotonic() + seconds

    @property
    def down(self) -> bool:
        return time.monotonic() < self.down_until

    def clear(self) -> None:
        """No faults any more (the seed and RNG are kept)."""
        self.error_rate = self.throttle_rate = self.drop_rate = 0.0
        self.drop_after_start_rate = self.garble_rate = self.slow_rate = 0.0
        self.token_lifetime, self.paths, self.down_until = None, (), 0.0
