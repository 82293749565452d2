"""The real CLI against a misbehaving AMT Batch Server on loopback: one case per finding of
issue 11. Each ends the job or the command with one clear line and the right exit status, never
an internal error, and a second listener (where a redirect points) receives nothing."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from aiohttp import web

from tests.reliability.hostile import job_status, messages
from tests.reliability.hostile_cli import (
    ACTION,
    ENDPOINTS,
    LOGON,
    MESSAGES,
    MONITOR,
    STATUS,
    Handler,
    Listener,
    raw,
    reply,
    serving,
)
from tests.run.conftest import PASSWORD, amtflow, status_here, write_definitions

DATE = "2026-11-24"
JOBS: list[dict[str, Any]] = [{"name": "REPORT", "task": "batch_job", "job_name": "REPORT"}]


def run(
    tmp_path: Path, server: Listener, *extra: str, jobs: list[dict[str, Any]] | None = None
) -> subprocess.CompletedProcess[str]:
    definitions = write_definitions(tmp_path, server.url, jobs or JOBS)
    return amtflow("run", definitions, "--date", DATE, *extra, cwd=tmp_path)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def job_log(tmp_path: Path) -> str:
    logs = list((tmp_path / ".amtflow" / "logs").rglob("*.log"))
    assert len(logs) == 1, logs
    return logs[0].read_text(encoding="utf-8")


def assert_clean_end(result: subprocess.CompletedProcess[str], tmp_path: Path) -> None:
    """No internal error; the run is recorded as ended, no job left 'running'."""
    assert "internal error" not in output(result) and "Traceback" not in output(result)
    status = status_here(tmp_path / ".amtflow", "--format", "json")  # the run's default state dir
    if status.exit_code == 0 and status.output.strip():
        assert '"running"' not in status.output, status.output


# -- 1. redirects are never followed -------------------------------------------------------------


def redirect(code: int, target: str) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        location = f"{target}{request.path}?who=op&token=LEAKED-Q"
        return web.Response(status=code, headers={"Location": location}, text="moved")

    return handle


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_a_redirect_is_never_followed(tmp_path: Path, code: int, endpoint: str) -> None:
    with serving() as trap:
        # "localhost" names the trap by a host the message must show, unlike the server's IP
        target = trap.url.replace("127.0.0.1", "localhost")
        with serving({endpoint: redirect(code, target)}) as server:
            result = run(tmp_path, server)
    assert trap.received == [], "a redirect was followed"
    # A job whose last messages cannot be read still ended as MonitorJob said (its log says why)
    assert result.returncode == (0 if endpoint == MESSAGES else 1), output(result)
    text = output(result) + _logs_text(tmp_path)
    assert f"HTTP {code}, a redirect to localhost;" in text
    assert "LEAKED-Q" not in text and trap.url.split(":")[-1] not in text
    assert server.count(endpoint) == 1, "a redirect was retried"
    assert PASSWORD not in text
    assert_clean_end(result, tmp_path)


def test_a_redirect_to_a_file_url_fails_at_once(tmp_path: Path) -> None:
    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(status=307, headers={"Location": "file:///etc/passwd"})

    with serving({MONITOR: handle}) as server:
        result = run(tmp_path, server)
    assert result.returncode == 1, output(result)
    assert "a redirect to an unusable location" in job_log(tmp_path) or "redirect to" in output(
        result
    )
    assert server.count(MONITOR) == 1
    assert_clean_end(result, tmp_path)


def _logs_text(tmp_path: Path) -> str:
    return "".join(
        p.read_text(encoding="utf-8") for p in (tmp_path / ".amtflow" / "logs").rglob("*.log")
    )


# -- 2. an undecodable body is a protocol error of that job, never an internal error -------------

BRACKETS = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("endpoint", [ACTION, MONITOR, MESSAGES])
def test_deeply_nested_json_fails_the_job_not_amtflow(tmp_path: Path, endpoint: str) -> None:
    """An error body (never retried) here; a 2xx one is retried (tests/reliability/test_hostile)."""
    with serving({endpoint: raw(BRACKETS, 400)}) as server:
        result = run(tmp_path, server)
    assert result.returncode in (0, 1), output(result)
    assert result.returncode == 1 or endpoint == MESSAGES
    assert_clean_end(result, tmp_path)


@pytest.mark.parametrize("endpoint", [STATUS, LOGON])
def test_deeply_nested_json_in_the_preflight_is_one_line(tmp_path: Path, endpoint: str) -> None:
    with serving({endpoint: raw(BRACKETS, 400)}) as server:
        result = run(tmp_path, server)
    assert result.returncode == 1, output(result)
    assert_clean_end(result, tmp_path)


# -- 3. a logon token a header cannot carry ------------------------------------------------------


@pytest.mark.parametrize("token", ["t-1\r\nX-Evil: 1", "t-1\n", "t\x00-1", "t 1"])
def test_a_token_with_control_characters_is_refused_at_logon(tmp_path: Path, token: str) -> None:
    with serving({LOGON: reply({"amtLogonToken": token, "expiresIn": 3600})}) as server:
        result = run(tmp_path, server)
    assert result.returncode == 1, output(result)
    assert "the token holds characters a header cannot carry" in output(result)
    assert server.count(ACTION) == 0
    assert_clean_end(result, tmp_path)


# -- 12. a refused token on a poll logs on again instead of abandoning a running job -------------


def test_a_poll_refused_twice_logs_on_again_and_the_job_is_watched_to_its_end(
    tmp_path: Path,
) -> None:
    answers = iter([401, 401, 200, 200])

    async def monitor(request: web.Request) -> web.StreamResponse:
        status = next(answers, 200)
        if status == 401:
            return web.json_response({"error": "AUTHENTICATION_ERROR", "message": "x"}, status=401)
        return web.json_response(job_status(4))

    with serving({MONITOR: monitor}) as server:
        result = run(tmp_path, server)
    assert result.returncode == 0, output(result)
    assert server.count(LOGON) >= 3
    assert_clean_end(result, tmp_path)


# -- 15. an answer about another job -------------------------------------------------------------


def test_a_monitor_answer_about_another_job_is_a_protocol_error(tmp_path: Path) -> None:
    with serving({MONITOR: reply(job_status(4, rid=9999))}) as server:
        result = run(tmp_path, server)
    assert result.returncode == 1, output(result)
    assert "the answer is about another job (9999)" in job_log(tmp_path)
    assert_clean_end(result, tmp_path)


def test_text_from_the_server_reaches_the_terminal_only_made_safe(tmp_path: Path) -> None:
    """Finding 9: escapes in an error message, a status version and a job's messages."""
    evil = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred"
    jobs = [*JOBS, {"name": "OTHER", "task": "batch_job", "job_name": "OTHER"}]

    async def start(request: web.Request) -> web.StreamResponse:
        if (await request.json())["jobName"] == "REPORT":
            return web.json_response({"error": "BAD_REQUEST", "message": evil}, status=400)
        return web.json_response(job_status(1))

    routes: Mapping[str, Handler] = {
        STATUS: reply({"version": evil, "batchServer": "RUNNING"}),
        ACTION: start,
        MESSAGES: reply(messages(evil)),
    }
    with serving(routes) as server:
        result = run(tmp_path, server, "--junit", "run.xml", jobs=jobs)
        checked = amtflow("agents", "check", tmp_path / "nightly.yaml", cwd=tmp_path)
    failure = ElementTree.parse(tmp_path / "run.xml").find("testcase/failure")  # valid XML
    assert failure is not None and "pwned" in failure.attrib["message"]
    assert result.returncode == 1, output(result)
    assert "pwned" in output(checked) and "pwned" in output(result)
    run_id = json.loads(amtflow("status", "--format", "json", cwd=tmp_path).stdout)["runs"][0][
        "run_id"
    ]
    shown = [
        output(result),
        output(checked),
        output(amtflow("status", cwd=tmp_path)),
        output(amtflow("status", run_id, cwd=tmp_path)),
        output(amtflow("logs", run_id, cwd=tmp_path)),
    ]
    for text in shown:
        assert "\x1b" not in text and "\x07" not in text, repr(text)
    assert "pwned" in shown[3] and "pwned" in shown[4]


def test_definition_values_reach_plan_and_run_output_only_made_safe(tmp_path: Path) -> None:
    jobs = [
        {
            "name": "REPORT",
            "task": "batch_job",
            "job_name": "REPORT\x1b[2J",
            "task_values": ["X=\x1b]0;title\x07"],
        }
    ]
    with serving() as server:
        definitions = write_definitions(tmp_path, server.url, jobs)
        planned = amtflow("plan", definitions, "--date", DATE, cwd=tmp_path)
        result = amtflow("run", definitions, "--date", DATE, cwd=tmp_path)
    for text in (output(planned), output(result)):
        assert "\x1b" not in text and "\x07" not in text, repr(text)
    assert "REPORT\\u001b[2J" in planned.stdout
