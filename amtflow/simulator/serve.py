"""Running the simulator on its own (``amtflow simulator``) until interrupted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from amtflow.errors import UsageError
from amtflow.simulator.app import Simulator
from amtflow.simulator.scenario import Scenario


async def serve(
    host: str, port: int, scenario_path: Path | None, on_ready: Callable[[str], None]
) -> None:
    """Serve until cancelled (Ctrl-C); ``on_ready`` gets the URL once it listens."""
    scenario = Scenario.load(scenario_path) if scenario_path else None
    simulator = Simulator(scenario)
    try:
        async with simulator.running(host, port) as url:
            on_ready(url)
            await asyncio.Event().wait()
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
