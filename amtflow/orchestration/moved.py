"""Agents whose server moved since a run began: commands that carry the run on refuse it.

A run's taskIds and batch request ids belong to the AMT Batch Server each job was started on,
which the journal recorded with the run (``RecordedPlan.agents``). When the definitions now give
an agent another ``batch_server_url`` (a DR fail-over, a typo fixed, a journal edited by someone
else), carrying the run on at the recorded server would start or watch jobs where the definitions
no longer point, and at the defined one would watch taskIds that server never saw: neither
silently. So ``amtflow resume``, ``rerun`` and ``mark-ok`` (of a finished run) stop before they
change anything, name the agent and both servers, and say the ways on for that command;
``amtflow run`` resuming its date says so and carries on at the recorded server. Where the
definitions cannot say (the file is gone or invalid, the agent is no longer defined, a run
recorded before plans were kept was rebuilt from the same file), nothing is known to differ: the
run goes on from the record. A run on the embedded simulator ran on no agent's server: nothing
moved.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from amtflow import definitions as defs
from amtflow import report
from amtflow.errors import AmtflowError, StateError
from amtflow.model import Agent
from amtflow.orchestration.record import RecordedPlan, RunSpec

Carrying = Literal["resume", "rerun", "mark-ok"]
"""The commands that carry a recorded run on, and refuse to when an agent of it moved."""

_REFUSED: Mapping[Carrying, tuple[str, str]] = {  # what was not done; what putting it back does
    "resume": ("not resumed", "to resume it"),
    "rerun": ("not rerun", "to rerun it"),
    "mark-ok": ("not marked OK nor carried on", "to mark OK and carry it on"),
}


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
    if spec.simulate:  # its jobs ran on the embedded simulator, wherever the agents pointed
        return []
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


def refuse_moved_agents(run_id: str, recorded: RecordedPlan, command: Carrying) -> None:
    """StateError, in one line, if the definitions now put an agent of the run elsewhere: the
    agents and both servers, then what ``command`` did not do and the ways on for it."""
    moved = moved_since(recorded)
    if not moved:
        return
    where = "; ".join(
        f"agent '{m.agent}' is at {m.defined} in the definitions, but the run began on "
        f"{m.began_on}, where its jobs' taskIds belong"
        for m in moved
    )
    raise StateError(f"run {run_id}: {where}: {_ways_on(run_id, recorded.spec, moved, command)}")


def _ways_on(run_id: str, spec: RunSpec, moved: list[Moved], command: Carrying) -> str:
    not_done, to_do = _REFUSED[command]
    if command == "resume":  # an unfinished run: abandon closes it
        other = (
            f"amtflow abandon {run_id} to close it (a new run then starts on the server "
            "defined now)"
        )
    else:  # a finished run, which abandon does not close: a new run of the date, on purpose
        other = f"{new_run(spec)} to start a new run of its date on the server defined now"
    return f"{not_done}; {_put_back(moved)} {to_do}, or {other}"


def _put_back(moved: list[Moved]) -> str:
    if len(moved) == 1:
        return f"put its batch_server_url back to {moved[0].began_on}"
    servers = ", ".join(f"{m.agent}: {m.began_on}" for m in moved)
    return f"put their batch_server_url back ({servers})"


def new_run(spec: RunSpec) -> str:
    """The ``amtflow run ... --again`` that starts a new run of ``spec``'s schedule date and
    selection (its ``--property`` values are not repeated: they may be sensitive)."""
    jobs = [arg for job in spec.selection for arg in ("--job", job)]
    words = ["amtflow", "run", spec.definitions, "--schedule", spec.schedule]
    return shlex.join([*words, "--date", spec.date.isoformat(), *jobs, "--again"])
