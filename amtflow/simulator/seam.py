"""The embedded simulator as a run's servers (``amtflow run --simulate``): the ``Servers`` the edge
hands to the core (``amtflow.orchestration.servers``), so that the core never imports the simulator."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Mapping

from amtflow.model import Agent
from amtflow.orchestration.servers import AGENTS, Reach, Servers, Simulated

SIMULATED_PASSWORD = "simulated"
"""What amtflow logs on with to its own simulator, which takes any password: no secret is read."""

DEMO_DURATION, DEMO_QUEUED = 0.5, 0.2  # each job of the demo scenario (no --scenario given)


@contextlib.asynccontextmanager
async def _agents_or_simulator(
    agents: Mapping[str, Agent], simulated: Simulated | None
) -> AsyncIterator[Reach]:
    if simulated is None:
        async with AGENTS(agents, None) as reach:
            yield reach
    elif simulated.url:
        yield _pointed(agents, simulated.url)
    else:
        # imported here: the simulator's server (aiohttp.web) costs every other run its import
        from amtflow.simulator.app import FIRST_BATCH_REQUEST_ID, Simulator
        from amtflow.simulator.scenario import JobScript, Scenario

        demo = Scenario(default=JobScript(duration=DEMO_DURATION, queued=DEMO_QUEUED))
        scenario = Scenario.load(simulated.scenario) if simulated.scenario else demo
        first = max(FIRST_BATCH_REQUEST_ID, simulated.after_request + 1)
        async with Simulator(scenario=scenario, first_request_id=first).running() as url:
            yield _pointed(agents, url)


def _pointed(agents: Mapping[str, Agent], url: str) -> Reach:
    """Every agent pointed at the simulator at ``url``, which takes any password."""
    pointed = {name: dataclasses.replace(a, batch_server_url=url) for name, a in agents.items()}
    return Reach(pointed, lambda: SIMULATED_PASSWORD, url)


AGENTS_OR_SIMULATOR: Servers = _agents_or_simulator
"""The agents' own servers, or the embedded simulator for a simulated run."""
