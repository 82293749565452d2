"""Names the rules allow but that are odd as file names run end to end with logs inside the log dir;
names the rules refuse are refused by ``plan`` and ``run`` too, before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amtflow.definitions.names import name_problem
from amtflow.joblog import safe_component

from .conftest import Harness, tree

ODD_BUT_ALLOWED = [
    ".hidden",
    "-rf",
    "~",
    "x..y",
    "trailing.",
    "DAILY RUN",
    "LÖHNE",
    "ПРОВЕРКА",
    "日本語ジョブ",
    "$HOME",
    "%s%n",
    "J#1@all",
    "{x}",
    "'quoted'",
    "é" * 100,
    "CONSOLE",
    "COM10",
    "a.b.c.log",
]
REFUSED = [
    "../x",
    "/etc/passwd",
    "a\\b",
    "CON",
    "nul.txt",
    "COM1",
    "a\u200db",
    "\u202eX",
    "REPORTа",
    "x" * 101,
    "..",
    " pad",
    "\x00",
    "ＣＯＮ",
    "C:x",
]


def definition(schedule: str, jobs: list[str]) -> str:
    body = {
        "version": 1,
        "batch_users": [{"name": "u", "identifier": "U", "password": {"env": "HOSTILE_PW"}}],
        "agents": [{"name": "a", "batch_server_url": "http://127.0.0.1:1", "batch_user": "u"}],
        "schedules": [
            {
                "name": schedule,
                "defaults": {"agent": "a", "application": "APP"},
                "jobs": [{"name": job, "task": "batch_job", "job_name": "J"} for job in jobs],
            }
        ],
    }
    return json.dumps(body, ensure_ascii=False)  # JSON is YAML


@pytest.mark.parametrize("name", ODD_BUT_ALLOWED)
def test_the_rules_allow(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize("name", REFUSED)
def test_the_rules_refuse(name: str) -> None:
    assert name_problem(name)


def test_odd_names_run_with_every_log_inside_the_log_dir(
    harness: Harness, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = repo / "odd.yaml"
    path.write_text(definition("..x y", ODD_BUT_ALLOWED), encoding="utf-8")
    before = tree(repo)
    outcome = harness.amtflow(
        "run",
        str(path),
        "--simulate",
        "--plain",
        "--date",
        "2026-03-02",
        "--log-dir",
        str(repo / "D"),
        "--state-dir",
        str(repo / "S"),
        cwd=repo,
        label="run odd names",
    )
    assert outcome.status == 0, outcome.output
    logs = sorted((repo / "D").rglob("*.log"))
    assert len(logs) == len(ODD_BUT_ALLOWED)
    assert all(log.resolve().is_relative_to((repo / "D").resolve()) for log in logs)
    assert {log.parent.parent.name for log in logs} == {safe_component("..x y")}  # no leading dots
    assert len({log.name.split(".")[0] for log in logs}) == len(ODD_BUT_ALLOWED)  # distinct files
    written = set(tree(repo)) - set(before)
    assert all(entry.split("/")[0] in ("D", "S") for entry in written), written


@pytest.mark.parametrize("command", ["plan", "run"])
def test_refused_names_stop_plan_and_run_before_any_write(
    harness: Harness, repo: Path, command: str
) -> None:
    path = repo / "bad.yaml"
    path.write_text(definition("../../escape", ["../../../x", "CON", "a\u202eb"]), encoding="utf-8")
    before = tree(repo.parent)
    extra = ["--simulate", "--log-dir", "D", "--state-dir", "S"] if command == "run" else []
    outcome = harness.amtflow(
        command, str(path), *extra, cwd=repo, label=f"{command} refused names"
    )
    assert outcome.status == 2, outcome.output
    assert "schedule name '../../escape' holds '/'" in outcome.output
    assert "job name 'a\\u202eb' holds an invisible" in outcome.output
    assert "\u202e" not in outcome.output
    assert tree(repo.parent) == before


@pytest.mark.parametrize("name", [*ODD_BUT_ALLOWED, *REFUSED, "PLAIN_01", "a b", "con.txt", "..."])
def test_a_printable_ascii_name_gets_the_same_answer_from_the_quick_checks(name: str) -> None:
    """Printable ASCII skips the checks that cannot find anything in it (``_PLAIN_CHECKS``)."""
    from amtflow.definitions import names

    full = next((p for check in names._CHECKS if (p := check(name))), None)
    if len(name) <= names.MAX_NAME_LENGTH:
        assert name_problem(name) == full
