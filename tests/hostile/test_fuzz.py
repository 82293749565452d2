"""Fuzzing the loader and validator: whatever the bytes, the outcome is a Validation (clean, or
with diagnostics that point into the file), never an exception and never a hang."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amtflow.definitions import Validation, validate

FUZZ = settings(
    max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
TOKENS = [
    *"-:[]{},&*!|>'\"%@`#?~. \n\t\r\\aZ09_é",
    "\u202e",
    "\x00",
    "\ufeff",
    "version",
    "include",
    "jobs",
    "name",
    "<<",
    "!!",
    "---",
    "...",
    "  ",
    "\n  - ",
]
YAMLISH = st.lists(st.sampled_from(TOKENS), max_size=120).map("".join)
NEAR_VALID: dict[str, Any] = {
    "version": 1,
    "properties": {"APP": "DEMO"},
    "calendars": [{"name": "holidays", "dates": ["2026-12-25"]}],
    "batch_users": [{"name": "u", "identifier": "U", "password": {"env": "P"}}],
    "agents": [{"name": "a", "batch_server_url": "http://h:42000", "batch_user": "u"}],
    "schedules": [
        {
            "name": "S",
            "frequency": {"days": ["mon"], "exclude_calendar": "holidays"},
            "defaults": {"agent": "a", "application": "[[APP]]"},
            "jobs": [
                {"name": "J1", "task": "batch_job", "job_name": "J1", "task_values": ["X=1"]},
                {
                    "name": "J2",
                    "task": "script",
                    "script_name": "s.ps1",
                    "depends_on": ["J1"],
                    "retry": {"attempts": 2, "delay": "5m", "on_codes": [11]},
                },
            ],
        }
    ],
}
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["J1", "a", "u", "[[APP]]", "[[NOPE]]", "5m", "2026-02-30"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / ".git").mkdir()
    return folder / "fuzz.yaml"


def check(target: Path, content: bytes) -> Validation:
    """Validate ``content``; the outcome must be coherent whatever it is."""
    target.write_bytes(content)
    validation = validate([target])
    assert validation.ok == (validation.definitions is not None)
    for diagnostic in validation.diagnostics:
        assert diagnostic.location.line >= 1 and diagnostic.location.column >= 1
        assert diagnostic.message and "Traceback" not in diagnostic.message
    return validation


@FUZZ
@given(content=st.binary(max_size=600))
def test_random_bytes(target: Path, content: bytes) -> None:
    check(target, content)


@FUZZ
@given(text=YAMLISH)
def test_yaml_ish_text(target: Path, text: str) -> None:
    check(target, text.encode("utf-8", "surrogatepass"))


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """The near-valid document with a few nodes replaced, removed or added."""
    document = copy.deepcopy(NEAR_VALID)
    for _ in range(draw(st.integers(1, 3))):
        parent, key = draw(_node(document))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace" or isinstance(parent, list):
            parent[key] = draw(VALUES)
        elif action == "delete":
            del parent[key]
        else:
            parent[draw(st.text(max_size=10))] = draw(VALUES)
    return document


@st.composite
def _node(draw: st.DrawFn, document: dict[str, Any]) -> tuple[Any, Any]:
    parent: Any = document
    key: Any = draw(st.sampled_from(sorted(document)))
    while isinstance(parent[key], (dict, list)) and parent[key] and draw(st.booleans()):
        parent = parent[key]
        key = draw(
            st.sampled_from(sorted(parent) if isinstance(parent, dict) else range(len(parent)))
        )
    return parent, key


def test_the_near_valid_document_is_valid(target: Path) -> None:
    assert check(target, json.dumps(NEAR_VALID).encode()).ok


@FUZZ
@given(document=mutated(), style=st.sampled_from(["block", "flow", "json"]))
def test_mutated_documents(target: Path, document: dict[str, Any], style: str) -> None:
    if style == "json":
        text = json.dumps(document)
    else:
        text = yaml.safe_dump(document, default_flow_style=style == "flow", allow_unicode=True)
    check(target, text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(document=mutated(), cut=st.integers(0, 2000), noise=YAMLISH)
def test_mutated_text(target: Path, document: dict[str, Any], cut: int, noise: str) -> None:
    text = yaml.safe_dump(document, allow_unicode=True)
    cut = cut % (len(text) + 1)
    check(target, (text[:cut] + noise + text[cut:]).encode("utf-8", "surrogatepass"))
