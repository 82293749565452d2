"""Secrets never show; TLS settings; the token's renewal."""

from __future__ import annotations

import ssl
from pathlib import Path

import aiohttp
import pytest
from aioresponses import aioresponses

from amtflow.client import AmtClient
from amtflow.client.token import TokenKeeper
from amtflow.errors import AmtError, RequestRejected, SecretError, ServerUnavailable
from amtflow.model import Agent, SecretRef, Tls
from amtflow.secrets import read_secret
from tests.client.conftest import BASE, BATCH_USER, FAST, PASSWORD, TOKEN, logon_ok, make_agent


def test_env_secret_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMT_API_PASSWORD", "pw")
    assert read_secret(SecretRef(env="AMT_API_PASSWORD"), "batch user 'amt-api'") == "pw"


def test_missing_env_var_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMT_API_PASSWORD", raising=False)
    with pytest.raises(SecretError) as caught:
        read_secret(SecretRef(env="AMT_API_PASSWORD"), "batch user 'amt-api'")
    assert str(caught.value) == (
        "batch user 'amt-api': environment variable AMT_API_PASSWORD is not set"
    )
    assert caught.value.exit_status == 2


def test_file_secret_loses_its_trailing_newline(tmp_path: Path) -> None:
    secret = tmp_path / "amt"
    secret.write_text("pa ss\n")
    assert read_secret(SecretRef(file=str(secret)), "u") == "pa ss"


@pytest.mark.parametrize("content, expected", [(None, "does not exist"), ("\n", "is empty")])
def test_bad_secret_files(tmp_path: Path, content: str | None, expected: str) -> None:
    secret = tmp_path / "amt"
    if content is not None:
        secret.write_text(content)
    with pytest.raises(SecretError, match=expected):
        read_secret(SecretRef(file=str(secret)), "batch user 'x'")


def test_unreadable_secret_file(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="cannot be read: it is a folder"):
        read_secret(SecretRef(file=str(tmp_path)), "batch user 'x'")  # a directory


async def test_password_is_read_only_at_logon(
    session: aiohttp.ClientSession, mocked: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AMT_TEST_PASSWORD", raising=False)
    client = AmtClient(session, make_agent(), BATCH_USER, policy=FAST)  # no error yet
    mocked.get(f"{BASE}/api/status", payload={"version": "8", "batchServer": "RUNNING"})
    await client.status()
    with pytest.raises(SecretError, match="AMT_TEST_PASSWORD is not set"):
        await client.logon()
    monkeypatch.setenv("AMT_TEST_PASSWORD", PASSWORD)
    logon_ok(mocked)
    await client.logon()


async def test_repr_and_errors_never_show_password_or_token(
    client: AmtClient, mocked: aioresponses
) -> None:
    logon_ok(mocked)
    await client.logon()
    mocked.post(
        f"{BASE}/api/OpConJobAction", exception=aiohttp.ClientOSError(104, "reset"), repeat=True
    )
    with pytest.raises(ServerUnavailable) as caught:
        await client.kill(1)
    shown = " ".join([repr(client), str(caught.value), repr(caught.value), repr(client._tokens)])
    assert PASSWORD not in shown and TOKEN not in shown
    assert caught.value.__cause__ is None  # the aiohttp error (and its request) is not chained


async def test_unverified_tls_warns_once(
    session: aiohttp.ClientSession, mocked: aioresponses, capsys: pytest.CaptureFixture[str]
) -> None:
    base = "https://amt.insecure:4004"
    agent = Agent(
        name="insecure", batch_server_url=base, batch_user="amt-api", tls=Tls(verify=False)
    )
    client = AmtClient(session, agent, BATCH_USER, password=lambda: "x", policy=FAST)
    mocked.get(
        f"{base}/api/status", payload={"version": "8", "batchServer": "RUNNING"}, repeat=True
    )
    for _ in range(3):
        await client.status()
    AmtClient(session, agent, BATCH_USER, policy=FAST)._tls()
    assert capsys.readouterr().err.count("insecure: TLS certificates are not verified") == 1


def test_ca_bundle_gives_a_verifying_context(session: aiohttp.ClientSession) -> None:
    from certifi import where  # any PEM bundle will do

    agent = make_agent("https://amt:1", tls=Tls(ca_bundle=where()))
    context = AmtClient(session, agent, BATCH_USER)._tls()
    assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_REQUIRED


def test_missing_ca_bundle_is_a_clear_error(session: aiohttp.ClientSession, tmp_path: Path) -> None:
    agent = make_agent("https://amt:1", tls=Tls(ca_bundle=str(tmp_path / "none.pem")))
    with pytest.raises(AmtError, match="tls.ca_bundle .*none.pem cannot be used"):
        AmtClient(session, agent, BATCH_USER)._tls()


async def test_token_is_renewed_before_it_expires() -> None:
    now = [0.0]
    logons: list[int] = []

    async def logon() -> tuple[str, float]:
        logons.append(1)
        return f"t{len(logons)}", 100.0

    keeper = TokenKeeper(logon, clock=lambda: now[0])
    assert await keeper.get() == "t1"
    now[0] = 89.0
    assert await keeper.get() == "t1"
    now[0] = 91.0  # within the last tenth of its life
    assert await keeper.get() == "t2"
    assert "t2" not in repr(keeper)


@pytest.mark.parametrize("password", [PASSWORD, "abc"])
async def test_a_logon_refusal_that_echoes_the_password_does_not_show_it(
    session: aiohttp.ClientSession, mocked: aioresponses, password: str
) -> None:
    client = AmtClient(session, make_agent(), BATCH_USER, password=lambda: password, policy=FAST)
    echo = {"message": f"apiUserPassword '{password}' is not valid for OPCONAPI"}
    mocked.post(f"{BASE}/api/logon", status=400, payload=echo)
    with pytest.raises(RequestRejected) as caught:
        await client.logon()
    assert str(caught.value) == (
        "agent amt-demo: logon: rejected as malformed: apiUserPassword '********' is not valid "
        "for OPCONAPI"
    )
    assert caught.value.agent == "amt-demo"
