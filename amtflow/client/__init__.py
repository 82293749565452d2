"""The AMT Batch Server client: the one package that knows the wire format (in ``wire``).

session = new_session()
client = AmtClient(session, agent, batch_user)
status = await client.start(request)
async for message in iter_messages(client, status.batch_request_id, after=0): ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp

from amtflow.batch import BatchClient, Message, message_pages
from amtflow.client.core import AmtClient
from amtflow.client.policy import RetryPolicy

__all__ = ["AmtClient", "RetryPolicy", "iter_messages", "new_session"]

MAX_CONNECTIONS = 512  # room for 200+ concurrent jobs polling at once


def new_session(*, limit: int = MAX_CONNECTIONS) -> aiohttp.ClientSession:
    """The one session of a run: pooled keep-alive connections, no session-wide total timeout.

    Per-request timeouts come from each client's ``RetryPolicy``. Create it inside a running
    event loop and close it at the end of the run (``async with new_session() as session:``).
    """
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=0, keepalive_timeout=30)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60)
    return aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False)


async def iter_messages(
    client: BatchClient, batch_request_id: int, after: int = 0, *, max_pages: int = 100
) -> AsyncIterator[Message]:
    """Every message with ``seq > after``, following ``more`` for at most ``max_pages`` pages.

    Stops early on a page that makes no progress, so ``more: true`` forever cannot loop
    forever; the caller resumes later from the last ``seq`` it saw.
    """
    async for page in message_pages(client, batch_request_id, after, max_pages=max_pages):
        for message in page.messages:
            yield message
