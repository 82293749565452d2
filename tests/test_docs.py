"""docs/ says what the code does: generated parts are current, examples are accepted by the code."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from amtflow.batch import CODES
from amtflow.client import wire
from amtflow.definitions import schema
from amtflow.simulator import validate

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_docs_are_current() -> None:
    stale = [str(path.relative_to(ROOT)) for path in generator().stale()]
    assert not stale, f"{', '.join(stale)} stale: run `python docs/generate.py` and commit"


def test_check_mode_exits_0_when_current() -> None:
    result = subprocess.run(
        [sys.executable, "docs/generate.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert (result.returncode, result.stdout) == (0, "")


def descriptions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("description"), str):
            yield node["description"]
        for value in node.values():
            yield from descriptions(value)
    elif isinstance(node, list):
        for value in node:
            yield from descriptions(value)


def test_every_description_of_the_schema_is_in_the_reference() -> None:
    text = (DOCS / "definitions.md").read_text(encoding="utf-8")
    missing = [d for d in descriptions(schema()) if d.replace("|", "\\|") not in text]
    assert not missing


def test_a_new_key_in_the_schema_makes_the_reference_stale() -> None:
    changed = copy.deepcopy(dict(schema()))
    changed["$defs"]["job"]["properties"]["not_yet_a_key"] = {
        "type": "string",
        "description": "Not before this time of day, HH:MM.",
        "pattern": "^[0-9]{2}:[0-9]{2}$",
    }
    text = generator().definitions_reference(changed)
    assert text != (DOCS / "definitions.md").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `not_yet_a_key`"))
    assert "Not before this time of day, HH:MM." in row and "`^[0-9]{2}:[0-9]{2}$`" in row


FUTURE_SHAPES: dict[str, Any] = {
    "notifications": {
        "type": "array",
        "description": "Where to send messages on run and job events.",
        "items": {
            "type": "object",
            "description": "One notification.",
            "properties": {
                "url": {"type": "string", "format": "uri", "description": "An Apprise URL."},
                "on": {
                    "type": "array",
                    "description": "Events that send it.",
                    "items": {"enum": ["failed", "late"], "description": "An event."},
                },
                "filter": {
                    "type": "object",
                    "description": "Which jobs count.",
                    "properties": {"jobs": {"type": "array", "description": "Job names."}},
                },
            },
            "allOf": [
                {"if": {"properties": {"on": {"const": "late"}}}, "then": {"required": ["url"]}}
            ],
        },
    },
    "projects": {
        "type": "object",
        "description": "Projects by name.",
        "additionalProperties": {
            "type": "object",
            "description": "One project.",
            "properties": {
                "root": {"type": "string", "description": "Its folder.", "default": "."}
            },
        },
    },
    "start_time": {
        "description": "A time of day or a rule.",
        "oneOf": [
            {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$", "description": "HH:MM."},
            {
                "type": "object",
                "description": "Every N minutes.",
                "properties": {"every": {"type": "integer", "description": "Minutes apart."}},
            },
            {
                "type": "object",
                "description": "At a cron time.",
                "properties": {"cron": {"type": "string", "description": "A cron line."}},
            },
        ],
    },
}


def test_shapes_others_may_add_are_documented_with_working_links() -> None:
    changed = copy.deepcopy(dict(schema()))
    changed["properties"].update(FUTURE_SHAPES)
    text = generator().definitions_reference(changed)
    missing = [d for d in descriptions(FUTURE_SHAPES) if d.replace("|", "\\|") not in text]
    assert not missing
    anchors = re.findall(r'<a id="([^"]+)"></a>', text)
    assert len(anchors) == len(set(anchors)), "an anchor is used twice"
    assert set(re.findall(r"\]\(#([^)]+)\)", text)) <= set(anchors)
    assert "- With `on: late`: requires `url`." in text
    assert 'Default: `"."`.' in text and "Format: uri." in text


def test_a_hand_edit_of_a_generated_table_is_stale(tmp_path: Path) -> None:
    for name in ("amt-api.md", "architecture.md", "definitions.md", "operations.md"):
        (tmp_path / name).write_text((DOCS / name).read_text(encoding="utf-8"), encoding="utf-8")
    api = tmp_path / "amt-api.md"
    api.write_text(api.read_text(encoding="utf-8").replace("| 4 | DONE |", "| 4 | OK |"))
    assert generator().stale(tmp_path) == [api]
    operations = tmp_path / "operations.md"
    api.write_text((DOCS / "amt-api.md").read_text(encoding="utf-8"), encoding="utf-8")
    operations.write_text(operations.read_text().replace("| not run |", "| not_run |"))
    assert generator().stale(tmp_path) == [operations]


def test_the_completion_code_table_has_every_code_once() -> None:
    text = (DOCS / "amt-api.md").read_text(encoding="utf-8").split("BEGIN GENERATED")[1]
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \|", text, re.M)
    assert [int(code) for code, _ in rows] == sorted(CODES)
    assert all(CODES[int(code)].name == name.strip() for code, name in rows)


def test_the_start_bodies_of_the_contract_are_accepted_by_the_simulator() -> None:
    text = (DOCS / "amt-api.md").read_text(encoding="utf-8")
    bodies = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S)]
    assert [body["taskType"] for body in bodies] == ["BatchJob", "Script"]
    for body in bodies:
        assert validate.action(body) == "Start"
        assert validate.start(body) in ("REPORTTEST01", body.get("scriptName"))


ANSWERS = re.compile(r"`200 (\{.*?\})`")


@pytest.mark.parametrize(
    "answer", ANSWERS.findall((DOCS / "amt-api.md").read_text(encoding="utf-8"))
)
def test_each_documented_answer_is_what_the_client_accepts(answer: str) -> None:
    data = json.loads(answer.replace('"…"', '"2026-11-24T06:00:01+00:00"'))
    if "amtLogonToken" in data:
        assert wire.parse_logon(data) == (data["amtLogonToken"], data["expiresIn"])
    elif "messages" in data:
        assert wire.parse_messages(data, "doc").messages[0].seq == 1
    elif "version" in data:
        assert wire.parse_status(data).batch_server == "RUNNING"
    else:
        assert wire.parse_job_status(data, "doc").batch_request_id == 4280


def test_the_docs_link_to_pages_that_exist() -> None:
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+\.md)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name} links to {target}"


def test_every_link_inside_the_reference_has_its_anchor() -> None:
    text = (DOCS / "definitions.md").read_text(encoding="utf-8")
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', text))
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert links and links <= anchors, links - anchors


def test_the_architecture_page_names_each_module_of_the_cli_and_no_other() -> None:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    paragraph = text.split("**`cli/`**", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"`(\w+)\.py`", paragraph))  # not `state/complete.py`
    assert named == {path.stem for path in (ROOT / "amtflow" / "cli").glob("*.py")}
