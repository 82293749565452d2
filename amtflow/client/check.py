"""``amtflow agents check``: is every agent reachable, are its credentials good, which version?

Each agent is checked on its own (concurrently): ``/api/status`` first, then a logon. A failure
becomes a line that says what to fix, never a traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from amtflow.client import AmtClient, RetryPolicy, new_session
from amtflow.client.http import HTML_ANSWER, TlsFailure
from amtflow.errors import (
    AmtError,
    AuthenticationError,
    NotFound,
    ProtocolError,
    SecretError,
    ServerUnavailable,
)
from amtflow.model import Agent, BatchUser, Definitions

# A check should answer in seconds, not sit out a long outage.
CHECK_POLICY = RetryPolicy(
    max_attempts=5,
    budget=10.0,
    base_delay=0.2,
    max_delay=1.0,
    retry_after_cap=2.0,
    request_timeout=10.0,
    connect_timeout=5.0,
)

PasswordFor = Callable[[BatchUser], Callable[[], str] | None]


@dataclass(frozen=True)
class AgentCheck:
    """The outcome of checking one agent."""

    agent: str
    url: str
    ok: bool
    version: str | None = None
    problem: str = ""  # what is wrong and what to fix
    skipped: bool = False  # communication disabled: not checked, not a failure


async def check_agents(
    definitions: Definitions,
    session: aiohttp.ClientSession,
    *,
    policy: RetryPolicy = CHECK_POLICY,
    password_for: PasswordFor | None = None,
) -> list[AgentCheck]:
    """Check every agent of ``definitions``, in name order."""
    agents = sorted(definitions.agents.values(), key=lambda agent: agent.name)
    checks = [_check(agent, definitions, session, policy, password_for) for agent in agents]
    return list(await asyncio.gather(*checks))


async def _check(
    agent: Agent,
    definitions: Definitions,
    session: aiohttp.ClientSession,
    policy: RetryPolicy,
    password_for: PasswordFor | None,
) -> AgentCheck:
    url = agent.batch_server_url
    if not agent.enabled:
        return AgentCheck(agent.name, url, ok=True, skipped=True, problem="communication disabled")
    user = definitions.batch_users.get(agent.batch_user)
    if user is None:
        return AgentCheck(
            agent.name, url, ok=False, problem=f"batch user '{agent.batch_user}' is not defined"
        )
    password = password_for(user) if password_for else None
    client = AmtClient(session, agent, user, password=password, policy=policy)
    return await _probe(client, agent, user)


async def _probe(client: AmtClient, agent: Agent, user: BatchUser) -> AgentCheck:
    url = agent.batch_server_url
    try:
        version = (await client.status()).version
    except AmtError as exc:
        return AgentCheck(agent.name, url, ok=False, problem=_unreachable(exc, url))
    try:
        await client.logon()
    except SecretError as exc:
        return AgentCheck(agent.name, url, ok=False, version=version, problem=str(exc))
    except AmtError as exc:
        return AgentCheck(
            agent.name, url, ok=False, version=version, problem=_logon_failed(exc, user)
        )
    return AgentCheck(agent.name, url, ok=True, version=version)


def _unreachable(exc: AmtError, url: str) -> str:
    reason = _detail(exc)
    if isinstance(exc, TlsFailure):
        return reason
    if isinstance(exc, ServerUnavailable) and HTML_ANSWER in reason:
        return (
            f"{url} answers with web pages, not as an AMT Batch Server ({reason}): is a proxy or "
            "a login page in front of it? check batch_server_url"
        )
    if isinstance(exc, ServerUnavailable):
        return f"{url} is not reachable ({reason}): is the server up and batch_server_url right?"
    if isinstance(exc, (NotFound, ProtocolError, AuthenticationError)):
        return f"{url} does not answer as an AMT Batch Server ({reason}): check batch_server_url"
    return f"{url}: {reason}"


def _logon_failed(exc: AmtError, user: BatchUser) -> str:
    if isinstance(exc, AuthenticationError):
        return (
            f"logon as {user.identifier} refused: check the password of batch user "
            f"'{user.name}' ({user.password}) and its identifier"
        )
    return f"logon as {user.identifier} failed: {_detail(exc)}"


def _detail(exc: AmtError) -> str:
    text = str(exc)
    prefix = f"agent {exc.agent}: " if exc.agent else ""
    return text.removeprefix(prefix)


async def check_all(definitions: Definitions) -> list[AgentCheck]:
    """``check_agents`` with a session of its own (for the CLI)."""
    async with new_session() as session:
        return await check_agents(definitions, session)
