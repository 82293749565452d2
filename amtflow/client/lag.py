"""How long this process could not run on time: the lag of its event loop.

On a busy machine a runner can be starved of CPU for seconds. A request timer then fires late,
or fires while the server's answer already waits in the socket, and every wait of the retry loop
takes longer than asked. None of that is the server's fault, so none of it should spend a call's
retry budget (``RetryPolicy``): a busy runner must not turn a survivable fault into a failed job.

``LoopLag`` measures it with one probe task per client that sleeps in short ticks and adds up
how late each wake-up came. The probe runs only while calls are in flight and ends by itself
after the last one, so no task outlives a run.
"""

from __future__ import annotations

import asyncio

TICK = 0.05  # seconds between wake-ups of the probe
TOLERANCE = 0.005  # lateness below this is the loop's ordinary jitter


class LoopLag:
    """Seconds the event loop ran late while calls were in flight, added up."""

    def __init__(self) -> None:
        self._total = 0.0
        self._since = 0.0  # when the probe's current tick began
        self._in_flight = 0
        self._probe: asyncio.Task[None] | None = None

    def __enter__(self) -> None:
        """Keep the probe running while the block (one call's attempt) is in flight."""
        self._in_flight += 1
        if self._probe is None or self._probe.done():
            loop = asyncio.get_running_loop()
            self._since = loop.time()
            self._probe = loop.create_task(self._watch())

    def __exit__(self, *exc: object) -> None:
        self._in_flight -= 1

    def seconds(self) -> float:
        """The lag so far, the current tick's lateness included (it grows continuously)."""
        if self._probe is None or self._probe.done():
            return self._total
        return self._total + self._late(asyncio.get_running_loop().time())

    def _late(self, now: float) -> float:
        return max(0.0, now - self._since - TICK - TOLERANCE)

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while self._in_flight > 0:
            await asyncio.sleep(max(0.0, self._since + TICK - loop.time()))
            now = loop.time()
            self._total += self._late(now)
            self._since = now
