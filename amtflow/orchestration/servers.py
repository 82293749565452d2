"""Where a run's AMT Batch Servers are and how to log on to them: the one seam between a run and
the servers it talks to.

A ``Servers`` is chosen at the edge (``cli/``, the Python API): ``AGENTS`` reaches each agent at
its own ``batch_server_url`` with its batch user's password; the embedded simulator
(``amtflow.simulator.seam.AGENTS_OR_SIMULATOR``) stands in for all of them when a run is
simulated. The core (run, resume, rerun, kill, abandon) only asks it for a ``Reach`` and never
imports the simulator.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from amtflow.errors import UsageError
from amtflow.model import Agent


@dataclass(frozen=True)
class Simulated:
    """A run on the embedded simulator: started with ``scenario`` (None: the demo scenario), or,
    with ``url``, the one a recorded run started and still runs (``amtflow kill``)."""

    scenario: Path | None = None
    url: str = ""
    after_request: int = 0  # a new simulator numbers its jobs after this batch request id


@dataclass(frozen=True)
class Reach:
    """The agents as the run reaches them, and how it logs on."""

    agents: Mapping[str, Agent] = field(default_factory=dict)
    password: Callable[[], str] | None = None  # None: each batch user's own password reference
    simulator_url: str = ""  # where the embedded simulator listens, on a simulated run


class Servers(Protocol):
    """Opens the servers of ``agents`` for as long as a run needs them."""

    def __call__(
        self, agents: Mapping[str, Agent], simulated: Simulated | None
    ) -> AbstractAsyncContextManager[Reach]: ...


@contextlib.asynccontextmanager
async def _agents_as_defined(
    agents: Mapping[str, Agent], simulated: Simulated | None
) -> AsyncIterator[Reach]:
    if simulated is not None:
        raise UsageError("this run needs the embedded simulator, which was not given to amtflow")
    yield Reach(dict(agents))


AGENTS: Servers = _agents_as_defined
"""Each agent's own server, reached with its batch user's password: no simulator."""
