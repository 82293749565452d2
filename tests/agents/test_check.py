"""``amtflow agents check``: the core with model objects, and the command end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from amtflow.client import new_session
from amtflow.client.check import AgentCheck, check_agents
from amtflow.model import Agent, BatchUser, Communication, Definitions, SecretRef
from amtflow.simulator import Scenario, Simulator
from tests.ports import dead_port

USER = BatchUser(name="amt-api", identifier="OPCONAPI", password=SecretRef(env="AMT_CHECK_PW"))


@pytest.fixture
async def url() -> AsyncIterator[str]:
    simulator = Simulator(Scenario(version="8.0.24223.0"), users={"OPCONAPI": "right"})
    async with simulator.running() as url:
        yield url


async def check(*agents: Agent, users: tuple[BatchUser, ...] = (USER,)) -> list[AgentCheck]:
    definitions = Definitions(
        agents={a.name: a for a in agents}, batch_users={u.name: u for u in users}
    )
    async with new_session() as session:
        return await check_agents(definitions, session)


async def test_good_agent_reports_its_version(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMT_CHECK_PW", "right")
    [result] = await check(Agent("good", url, "amt-api"))
    assert (result.ok, result.version, result.problem) == (True, "8.0.24223.0", "")


async def test_bad_password_says_which_user_and_where_the_password_is(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMT_CHECK_PW", "wrong")
    [result] = await check(Agent("bad", url, "amt-api"))
    assert not result.ok and result.version == "8.0.24223.0"
    assert "logon as OPCONAPI refused" in result.problem
    assert "env var AMT_CHECK_PW" in result.problem and "wrong" not in result.problem


async def test_missing_env_var_is_named(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMT_CHECK_PW", raising=False)
    [result] = await check(Agent("noenv", url, "amt-api"))
    assert not result.ok
    assert result.problem == ("batch user 'amt-api': environment variable AMT_CHECK_PW is not set")


async def test_server_down_says_so() -> None:
    [result] = await check(Agent("down", f"http://127.0.0.1:{dead_port()}", "amt-api"))
    assert not result.ok
    assert "is not reachable" in result.problem and "batch_server_url" in result.problem


async def test_wrong_url_path_is_not_an_amt_server(url: str) -> None:
    [result] = await check(Agent("wrongpath", url + "/elsewhere", "amt-api"))
    assert not result.ok
    assert "does not answer as an AMT Batch Server" in result.problem


async def test_a_proxy_s_web_page_is_not_taken_for_a_server_that_is_down() -> None:
    async def login_page(request: web.Request) -> web.Response:
        page = "<!DOCTYPE html>\n<html><body>Please sign in</body></html>"
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", login_page)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        [result] = await check(Agent("proxied", f"http://{host}:{port}", "amt-api"))
    finally:
        await runner.cleanup()
    assert not result.ok
    assert "answers with web pages, not as an AMT Batch Server" in result.problem
    assert "an HTML page" in result.problem and "is not reachable" not in result.problem


async def test_disabled_agent_is_skipped_and_several_agents_are_checked(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMT_CHECK_PW", "right")
    results = await check(
        Agent("b-off", "http://127.0.0.1:1", "amt-api", communication=Communication.DISABLED),
        Agent("a-on", url, "amt-api"),
    )
    assert [(r.agent, r.ok, r.skipped) for r in results] == [
        ("a-on", True, False),
        ("b-off", True, True),
    ]


def test_command_prints_a_line_per_agent_and_exits_1_on_failure(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "amtflow", "simulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = (server.stdout.readline() if server.stdout else "").split(" on ")[1].split()[0]
        definitions = tmp_path / "agents.yaml"
        definitions.write_text(
            "version: 1\n"
            "batch_users:\n"
            "  - {name: amt-api, identifier: OPCONAPI, password: {env: AMT_CHECK_PW}}\n"
            "agents:\n"
            f"  - {{name: sim, batch_server_url: '{url}', batch_user: amt-api}}\n"
            f"  - {{name: gone, batch_server_url: 'http://127.0.0.1:{dead_port()}', "
            "batch_user: amt-api}\n"
        )
        env = {**os.environ, "AMT_CHECK_PW": "anything"}
        result = subprocess.run(
            [sys.executable, "-m", "amtflow", "agents", "check", str(definitions)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("OK") and "sim" in line and "8.0.24223.0" in line for line in lines)
    assert any(
        line.startswith("FAIL") and "gone" in line and "not reachable" in line for line in lines
    )
    assert "1 of 2 agent(s) failed" in result.stderr


def test_command_with_invalid_definitions_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("agents: [{name: x}]\n")
    result = subprocess.run(
        [sys.executable, "-m", "amtflow", "agents", "check", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
