"""One agent's logon token, shared by all its jobs, fetched by a single flight."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Logon = Callable[[], Awaitable[tuple[str, float]]]


class TokenKeeper:
    """Holds the token; concurrent callers that find it missing share one logon.

    The token is renewed shortly before ``expiresIn`` runs out (a tenth of its lifetime, at
    most a minute, early). Its value never appears in a repr.
    """

    def __init__(self, logon: Logon, clock: Callable[[], float] = time.monotonic) -> None:
        self._logon = logon
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._flight: asyncio.Future[str] | None = None
        self.logons = 0

    def __repr__(self) -> str:
        return f"TokenKeeper(valid={self.valid}, logons={self.logons})"

    @property
    def valid(self) -> bool:
        return self._token is not None and self._clock() < self._renew_at

    async def get(self) -> str:
        """A valid token, logging on first when there is none (single flight)."""
        if self._token is not None and self._clock() < self._renew_at:
            return self._token
        return await self.renew()

    async def renew(self) -> str:
        """Log on now, or join the logon already under way."""
        if self._flight is None:
            self._flight = asyncio.ensure_future(self._fly())
            self._flight.add_done_callback(_consume)
        return await asyncio.shield(self._flight)

    def invalidate(self, token: str | None) -> None:
        """Forget ``token`` after a 401, unless a newer one has replaced it already."""
        if token is not None and token == self._token:
            self._token = None

    async def _fly(self) -> str:
        try:
            self.logons += 1
            token, expires_in = await self._logon()
            margin = min(60.0, expires_in / 10)
            self._token, self._renew_at = token, self._clock() + expires_in - margin
            return token
        finally:
            self._flight = None


def _consume(future: asyncio.Future[str]) -> None:
    """Retrieve a failed flight's error so that asyncio does not warn when nobody waits."""
    if not future.cancelled():
        future.exception()
