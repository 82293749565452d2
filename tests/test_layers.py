"""The pipeline's seams hold: the core never imports the simulator, whichever servers it uses."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest

from amtflow.errors import UsageError
from amtflow.model import Agent
from amtflow.orchestration.servers import AGENTS, Simulated
from amtflow.simulator.seam import AGENTS_OR_SIMULATOR, SIMULATED_PASSWORD

PACKAGE = Path(__file__).resolve().parents[1] / "amtflow"
EDGE = {"cli", "api.py"}  # they choose the servers: the simulator is theirs to hand in


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_core_module_imports_the_simulator() -> None:
    core = [
        path
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] not in {"simulator", *EDGE}
    ]
    assert len(core) > 50
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in core
        if any(name.startswith("amtflow.simulator") for name in _imported(path))
    ]
    assert offenders == []


def test_the_agents_own_servers_refuse_a_simulated_run_in_one_line() -> None:
    agents = {"amt": Agent("amt", "http://127.0.0.1:1", "api")}

    async def reach() -> None:
        async with AGENTS(agents, Simulated()):
            pass

    with pytest.raises(UsageError, match="needs the embedded simulator"):
        asyncio.run(reach())


def test_a_recorded_simulated_run_is_reached_where_its_simulator_listens() -> None:
    agents = {"amt": Agent("amt", "http://10.1.29.5:9001", "api")}

    async def reach() -> tuple[str, str, str]:
        async with AGENTS_OR_SIMULATOR(agents, Simulated(url="http://127.0.0.1:4711")) as r:
            assert r.password is not None
            return r.agents["amt"].batch_server_url, r.password(), r.simulator_url

    url = "http://127.0.0.1:4711"
    assert asyncio.run(reach()) == (url, SIMULATED_PASSWORD, url)


def test_the_agents_own_servers_are_reached_as_defined() -> None:
    agents = {"amt": Agent("amt", "http://10.1.29.5:9001", "api")}

    async def reach() -> tuple[str, bool]:
        async with AGENTS_OR_SIMULATOR(agents, None) as r:
            return r.agents["amt"].batch_server_url, r.password is None

    assert asyncio.run(reach()) == ("http://10.1.29.5:9001", True)
