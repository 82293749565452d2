"""A notification URL's token and password never show: terminal, logs, journal, JSON, logging."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

from amtflow.notify.message import Message
from amtflow.notify.send import Policy, Redactor, Target
from tests.notify.conftest import (
    TOKEN,
    Webhook,
    batch_jobs,
    run_simulated,
    write_schedule,
)
from tests.ports import dead_port
from tests.run.conftest import amtflow

PASSWORD = "pw-77zz-hunter2"
SECRETS = (TOKEN, PASSWORD, "qs-secret-42")

FAILING = {"default": {"duration": 0.1}, "jobs": {"B": {"end_code": 11, "messages": ["B broke"]}}}


def secret_url(port: int) -> str:
    return f"json://bot:{PASSWORD}@127.0.0.1:{port}/hook/{TOKEN}?key=qs-secret-42"


def everything_written(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())


def assert_no_secret(*texts: str | bytes) -> None:
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret} leaked"


def test_url_token_never_appears_in_output_logs_or_journal(
    tmp_path: Path, webhook: Webhook
) -> None:
    webhook.status = 500  # failures are where URLs tend to leak: warnings, reasons, records
    notifications = [
        {
            "name": "ops",
            "urls": [{"env": "BROKEN"}, {"env": "DEAD"}, {"file": str(tmp_path / "url.txt")}],
            "events": ["run_started", "job_failed", "run_failed"],
        }
    ]
    (tmp_path / "url.txt").write_text(secret_url(webhook.port).replace("json://", "xyz://") + "\n")
    env = {
        "BROKEN": secret_url(webhook.port),
        "DEAD": secret_url(dead_port()),
        "AMTFLOW_NOTIFY_TIMEOUT": "2",
        "AMTFLOW_NOTIFY_PAUSE": "0.05",
    }
    schedule = write_schedule(tmp_path, batch_jobs("A", "B"), notifications, ["ops"])
    result = run_simulated(tmp_path, schedule, FAILING, env, "--json", str(tmp_path / "run.json"))
    assert result.returncode == 1, result.stderr
    assert "URL 3 (xyz): not an Apprise URL amtflow can use (read from file" in result.stderr
    assert "URL 1 (json)" in result.stderr and "URL 2 (json)" in result.stderr
    assert webhook.posts, "the broken receiver was reached"
    (tmp_path / "url.txt").unlink()  # the one place the secret is meant to be
    status = amtflow("status", "--state-dir", tmp_path / "state", cwd=tmp_path)
    assert_no_secret(result.stdout, result.stderr, status.stdout, everything_written(tmp_path))


def test_notify_test_never_prints_the_url(tmp_path: Path) -> None:
    schedule = write_schedule(
        tmp_path,
        batch_jobs("A"),
        [{"name": "ops", "urls": [{"env": "DEAD"}], "events": ["run_ok"]}],
        ["ops"],
    )
    result = amtflow(
        "notify",
        "test",
        "ops",
        schedule,
        cwd=tmp_path,
        env={"DEAD": secret_url(dead_port()), "AMTFLOW_NOTIFY_PAUSE": "0.05"},
    )
    assert result.returncode == 1
    assert "notification 'ops' URL 1 (json): NOT delivered:" in result.stdout
    assert_no_secret(result.stdout, result.stderr)


def test_apprise_logging_never_reaches_other_handlers_with_a_url(webhook: Webhook) -> None:
    """Even with the root logger at DEBUG, nothing Apprise logs carries the URL's secrets."""
    webhook.status = 500
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(lambda record: record.name != "aiohttp.access")  # the test's receiver
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        target = Target("ops", 1, secret_url(webhook.port))
        outcome = asyncio.run(target.send(Message("t", "b"), Policy(timeout=2, tries=1)))
        logging.getLogger("apprise").debug("direct %s", secret_url(1))
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert not outcome.delivered and "500" in outcome.reason
    assert_no_secret(stream.getvalue(), outcome.reason, repr(target), target.label)
    assert len(webhook.posts) == 1


def test_redactor_masks_every_part_of_the_url() -> None:
    redact = Redactor([secret_url(8080)])
    text = f"POST http://127.0.0.1:8080/hook/{TOKEN}?key=qs-secret-42 as bot:{PASSWORD}"
    masked = redact(text)
    assert TOKEN not in masked and PASSWORD not in masked and "qs-secret-42" not in masked
    assert masked.startswith("POST http://")


def test_a_short_user_or_password_in_a_url_is_masked_as_a_whole_token() -> None:
    redact = Redactor(["json://op:pw7@127.0.0.1:8080/hook"])
    masked = redact("login op:pw7 refused for op; pw7. kept: pw77 opus api /hook")
    assert masked == "login ***:*** refused for ***; ***. kept: pw77 opus api /***"
    # other short parts (ports, path segments) are noise, as before: never masked
    assert Redactor(["json://127.0.0.1:80/a"])("HTTP 404 from 127.0.0.1 port 80 a b") == (
        "HTTP 404 from *** port 80 a b"
    )
