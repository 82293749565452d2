"""Agents whose server moved since a run began: ``amtflow resume`` refuses to carry such a run on.

A run's taskIds and batch request ids belong to the AMT Batch Server each job was started on,
which the journal recorded with the run (``RecordedPlan.agents``). When the definitions now give
an agent another ``batch_server_url`` (a DR fail-over, a typo fixed, a journal edited by someone
else), resuming at the recorded server would carry on where the definitions no longer point, and
at the defined one would watch taskIds that server never saw: neither silently. So resume stops,
names the agent and both servers, and says the two ways on. Where the definitions cannot say (the
file is gone or invalid, the agent is no longer defined, a run recorded before plans were kept
was rebuilt from the same file), nothing is known to differ: resume goes on from the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from amtflow import definitions as defs
from amtflow import report
from amtflow.errors import AmtflowError, StateError
from amtflow.model import Agent
from amtflow.orchestration.record import RecordedPlan


@dataclass(frozen=True)
class Moved:
    """An agent whose server is not the one the run began on (URLs without credentials)."""

    agent: str
    began_on: str
    defined: str


def shown_url(url: str) -> str:
    """``url`` without its ``user:password@``: fit for a message."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "an unusable URL"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


def moved_agents(recorded: Mapping[str, Agent], current: Mapping[str, Agent]) -> list[Moved]:
    """The agents of ``recorded`` that ``current`` defines at another server, by name."""
    return [
        Moved(name, shown_url(agent.batch_server_url), shown_url(now.batch_server_url))
        for name, agent in sorted(recorded.items())
        if (now := current.get(name)) is not None
        and _server(agent.batch_server_url) != _server(now.batch_server_url)
    ]


def _server(url: str) -> tuple[str, str, int | None, str] | str:
    """What makes two URLs the same server: not case, credentials or a trailing slash."""
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), (parts.hostname or ""), parts.port, parts.path.rstrip("/")
    except ValueError:
        return url


def moved_since(recorded: RecordedPlan) -> list[Moved]:
    """The run's agents that its definitions file now puts on another server."""
    spec = recorded.spec
    try:
        current = defs.load([spec.definitions], properties=spec.properties).agents
    except AmtflowError:  # gone or invalid: nothing to compare with
        return []
    return moved_agents(recorded.agents, current)


def warn_moved_agents(run_id: str, recorded: RecordedPlan) -> None:
    """A line for each agent moved since the run began (``amtflow run`` resuming its date)."""
    for m in moved_since(recorded):
        report.warning(
            f"agent '{m.agent}' is at {m.defined} in the definitions, but run {run_id} began on "
            f"{m.began_on}: carried on there, where its jobs' taskIds belong"
        )


def refuse_moved_agents(run_id: str, recorded: RecordedPlan) -> None:
    """StateError, in one line, if the definitions now put an agent of the run elsewhere."""
    moved = moved_since(recorded)
    if not moved:
        return
    where = "; ".join(
        f"agent '{m.agent}' is at {m.defined} in the definitions, but the run began on "
        f"{m.began_on}, where its jobs' taskIds belong"
        for m in moved
    )
    if len(moved) == 1:
        back = f"put its batch_server_url back to {moved[0].began_on}"
    else:
        back = (
            "put their batch_server_url back ("
            + ", ".join(f"{m.agent}: {m.began_on}" for m in moved)
            + ")"
        )
    raise StateError(
        f"run {run_id}: {where}: not resumed; {back} to resume it, or amtflow abandon {run_id} "
        "to close it (a new run then starts on the server defined now)"
    )
