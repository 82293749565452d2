"""``amtflow notify test NAME [PATH...]`` as a user runs it, against real receivers."""

from __future__ import annotations

from pathlib import Path

from tests.notify.conftest import Smtp, Webhook, batch_jobs, write_schedule
from tests.ports import dead_port
from tests.run.conftest import amtflow

NOTIFICATIONS = [
    {"name": "ops", "urls": [{"env": "OPS_HOOK"}, {"env": "OPS_MAIL"}], "events": ["run_failed"]},
    {"name": "managers", "urls": [{"env": "MGR_HOOK"}], "events": ["run_failed"]},
]


def schedule(folder: Path) -> Path:
    return write_schedule(folder, batch_jobs("A"), NOTIFICATIONS, ["ops"])


def test_sends_one_test_message_to_every_url(tmp_path: Path, webhook: Webhook, smtp: Smtp) -> None:
    env = {"OPS_HOOK": webhook.apprise_url("ops"), "OPS_MAIL": smtp.apprise_url()}
    result = amtflow("notify", "test", "ops", schedule(tmp_path), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "notification 'ops' URL 1 (json): delivered",
        "notification 'ops' URL 2 (mailto): delivered",
        "2 of 2 URLs got the test message",
    ]
    assert [post.title for post in webhook.posts] == ["amtflow: test of notification ops"]
    assert len(smtp.mailbox.mails) == 1
    assert b"Subject: amtflow: test of notification ops" in smtp.mailbox.mails[0].content


def test_says_which_url_failed_and_exits_1(tmp_path: Path, webhook: Webhook) -> None:
    webhook.status = 500
    env = {
        "OPS_HOOK": webhook.apprise_url("ops"),
        "OPS_MAIL": f"mailto://127.0.0.1:{dead_port()}?from=a@example.com&to=b@example.com&mode=insecure",
    }
    result = amtflow(
        "notify",
        "test",
        "ops",
        schedule(tmp_path),
        cwd=tmp_path,
        env={**env, "AMTFLOW_NOTIFY_TIMEOUT": "2", "AMTFLOW_NOTIFY_PAUSE": "0.05"},
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert (
        lines[0].startswith("notification 'ops' URL 1 (json): NOT delivered: ")
        and "500" in lines[0]
    )
    assert lines[1].startswith("notification 'ops' URL 2 (mailto): NOT delivered: ")
    assert lines[2] == "0 of 2 URLs got the test message"
    assert len(webhook.posts) == 3  # three tries


def test_unset_env_var_is_named(tmp_path: Path, webhook: Webhook) -> None:
    result = amtflow("notify", "test", "managers", schedule(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert (
        "notification 'managers' URL 1: environment variable MGR_HOOK is not set" in result.stdout
    )
    assert "0 of 1 URLs got the test message" in result.stdout


def test_unknown_notification_is_a_usage_error(tmp_path: Path) -> None:
    result = amtflow("notify", "test", "opz", schedule(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown notification 'opz' (did you mean 'ops'?)" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_definitions_are_reported_like_validate(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "version: 1\nnotifications:\n  - {name: ops, urls: ['json://x/TOKEN'], events: [run_ok]}\n"
    )
    result = amtflow("notify", "test", "ops", path, cwd=tmp_path)
    assert result.returncode == 2
    assert "bad.yaml:3:" in result.stderr and "never a literal" in result.stderr
    assert "TOKEN" not in result.stderr + result.stdout


def test_without_a_path_the_definitions_of_amtflow_yaml_are_used(
    tmp_path: Path, webhook: Webhook
) -> None:
    # as validate and agents check do: amtflow.yaml's roots (found from a subfolder too), and
    # not a definitions/ folder (it read definitions/ whatever amtflow.yaml said)
    (tmp_path / "jobs").mkdir()
    schedule(tmp_path / "jobs")
    (tmp_path / "amtflow.yaml").write_text("version: 1\ndefinitions: [jobs]\n")
    (tmp_path / "definitions").mkdir()
    write_schedule(tmp_path / "definitions", batch_jobs("A"), [], [])  # not these
    env = {"MGR_HOOK": webhook.apprise_url("managers")}
    result = amtflow("notify", "test", "managers", cwd=tmp_path / "jobs", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "1 of 1 URLs got the test message"
    assert [post.path for post in webhook.posts] == ["/managers"]


def test_without_a_path_or_a_project_file_says_what_to_do_as_validate_does(
    tmp_path: Path,
) -> None:
    result = amtflow("notify", "test", "ops", cwd=tmp_path)
    validate = amtflow("validate", cwd=tmp_path)
    assert result.returncode == validate.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no definitions/ folder here" in lines[0], result.stderr
    assert lines[0].split(":", 2)[-1] == validate.stderr.strip().split(":", 2)[-1]
