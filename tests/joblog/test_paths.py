from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amtflow.definitions.names import name_problem
from amtflow.errors import StateError
from amtflow.joblog import default_log_dir, log_path, safe_component
from amtflow.joblog.paths import MAX_COMPONENT_BYTES

DATE = dt.date(2026, 3, 1)

HOSTILE = [
    "../x",
    "../../../../etc/passwd",
    "/etc/passwd",
    "a\\b",
    "..\\..\\windows",
    "C:\\x",
    "CON",
    "con",
    "nul.txt",
    "COM1",
    "lpt9.log",
    "COM¹",
    "CON .txt",
    "\x00",
    "a\x00b",
    "a\nb",
    "\x1b[31m",
    "x" * 300,
    "é" * 300,
    ".",
    "..",
    "",
    " ",
    "...",
    ".hidden",
    "trailing.",
    "trailing ",
    "\uff0e\uff0e",
    "\uff0e\uff0e\uff0fx",
    "\u2215etc\u2215passwd",
    "a/../../b",
    "~",
    "-rf",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_inside_the_log_dir(tmp_path: Path, name: str) -> None:
    log_dir = tmp_path / "logs"
    path = log_path(log_dir, name, DATE, name, name)
    assert path.resolve().is_relative_to(log_dir.resolve())
    assert path.parent.parent.parent == log_dir
    assert path.parent.name == "2026-03-01"
    for component in (path.parent.parent.name, path.name):
        assert "/" not in component and "\\" not in component and "\x00" not in component
        assert not component.startswith(".")
        assert len(component.encode()) < 255


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_path_can_really_be_created(tmp_path: Path, name: str) -> None:
    path = log_path(tmp_path, name, DATE, name, 1)
    path.parent.mkdir(parents=True)
    path.write_text("x")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [path]


@pytest.mark.parametrize(
    "name", ["CON", "nul.txt", "COM1", "Lpt3", "COM¹", "aux", "COM0", "lpt0.x"]
)
def test_windows_reserved_names_are_changed(name: str) -> None:
    assert safe_component(name).startswith("_")


@pytest.mark.parametrize("name", ["COM0", "LPT0.log", "nul"])
def test_a_name_the_definitions_refuse_as_a_device_never_names_a_log_file(name: str) -> None:
    """One table of Windows device names: what validation refuses, a log file never is."""
    assert name_problem(name) == (
        "is a reserved device name on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9)"
    )
    assert safe_component(name) != name


@pytest.mark.parametrize("name", ["REPORTTEST01", "NIGHTLY", "job-1_a.b", "LÖHNE", "DAILY RUN"])
def test_ordinary_names_are_kept(name: str) -> None:
    assert safe_component(name) == name


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("x" * MAX_COMPONENT_BYTES, True),
        ("x" * (MAX_COMPONENT_BYTES + 1), False),
        ("a", True),
        ("a.", False),
        (".a", False),
        ("a b", True),
        ("a~b", False),
        ("com1.log", False),
        ("COM1x", True),
    ],
)
def test_plain_names_at_the_edges_of_the_quick_check(name: str, kept: bool) -> None:
    """The plain-ASCII shortcut in ``safe_component`` keeps exactly what the full rules keep."""
    assert (safe_component(name) == name) is kept


def test_the_usual_path_layout(tmp_path: Path) -> None:
    path = log_path(tmp_path, "NIGHTLY", DATE, "REPORTTEST01", 4280)
    assert path == tmp_path / "NIGHTLY" / "2026-03-01" / "REPORTTEST01.4280.log"


def test_distinct_names_stay_distinct() -> None:
    names = [
        "a/b",
        "a\\b",
        "a_b",
        "a:b",
        "a?b",
        "x" * 300,
        "x" * 299 + "y",
        ".",
        "..",
        "",
        "CON",
        "_CON",
    ]
    components = [safe_component(n) for n in names]
    assert len(set(components)) == len(names)


def test_long_names_are_shortened_with_a_hash() -> None:
    component = safe_component("x" * 300)
    assert len(component.encode()) <= MAX_COMPONENT_BYTES
    assert component.startswith("x" * 50) and "~" in component


def test_long_multibyte_names_are_cut_on_a_character_boundary() -> None:
    component = safe_component("é" * 300)
    assert len(component.encode()) <= MAX_COMPONENT_BYTES
    component.encode().decode()  # valid UTF-8: no half character


def test_a_symlink_inside_the_log_dir_leading_out_is_refused(tmp_path: Path) -> None:
    log_dir, outside = tmp_path / "logs", tmp_path / "outside"
    log_dir.mkdir()
    outside.mkdir()
    os.symlink(outside, log_dir / "NIGHTLY")
    with pytest.raises(StateError, match="outside the log dir"):
        log_path(log_dir, "NIGHTLY", DATE, "A", 1)


def test_a_log_dir_that_is_itself_a_symlink_is_fine(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "logs")
    assert log_path(tmp_path / "logs", "S", DATE, "A", 1).name == "A.1.log"


def test_default_log_dir_follows_the_environment() -> None:
    assert default_log_dir({}) == Path(".amtflow/logs")
    assert default_log_dir({"AMTFLOW_LOG_DIR": ""}) == Path(".amtflow/logs")
    assert default_log_dir({"AMTFLOW_LOG_DIR": "/var/log/amtflow"}) == Path("/var/log/amtflow")


@settings(max_examples=300, deadline=None)
@given(schedule=st.text(), job=st.text(), request=st.one_of(st.integers(), st.text()))
def test_any_name_gives_one_safe_component_inside_the_log_dir(
    schedule: str, job: str, request: int | str
) -> None:
    log_dir = Path("/srv/logs")
    path = log_path(log_dir, schedule, DATE, job, request)
    assert path.parent.parent.parent == log_dir
    assert ".." not in path.relative_to(log_dir).parts
    for component in (path.parent.parent.name, path.name):
        assert component.isprintable() and "/" not in component and "\\" not in component
        assert not component.startswith(".") and len(component.encode()) < 255


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text())
def test_distinct_names_never_share_a_component(first: str, second: str) -> None:
    if first != second:
        assert safe_component(first) != safe_component(second)
