"""Every file of tests/data/invalid produces its stated error; valid files and definitions/ pass."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import DATA, REPO, run_cli

INVALID = sorted((DATA / "invalid").glob("*.yaml"))
EXPECT = re.compile(r"# expect: (?:(?P<file>\S+\.yaml):)?(?P<line>\d+): (?P<fragment>.+)")
# files that cannot carry a first-line comment: name -> (line, fragment)
SIDE_TABLE = {
    "empty.yaml": (1, "empty file: expected a mapping of definitions"),
    "binary.yaml": (2, "binary file (NUL byte)"),
    "latin1.yaml": (3, "not valid UTF-8 (byte 0xe9)"),
}


def expectation(path: Path) -> tuple[Path, int, str]:
    if path.name in SIDE_TABLE:
        line, fragment = SIDE_TABLE[path.name]
        return path, line, fragment
    match = EXPECT.match(path.read_text().splitlines()[0])
    assert match, f"{path.name} has no '# expect: LINE: message' first line"
    target = (path.parent / match["file"]).resolve() if match["file"] else path
    return target, int(match["line"]), match["fragment"]


def test_there_are_enough_invalid_examples() -> None:
    assert len(INVALID) >= 40


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_file_reports_its_error(path: Path) -> None:
    target, line, fragment = expectation(path)
    result = run_cli("validate", str(path))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    shown = Path(target).resolve()
    hits = [
        text
        for text in result.output.splitlines()
        if ": error: " in text
        and fragment in text
        and Path(text.split(":")[0]).resolve() == shown
        and int(text.split(":")[1]) == line
    ]
    assert hits, f"expected {shown.name}:{line}: {fragment!r} in:\n{result.output}"


def test_invalid_messages_never_show_the_literal_password() -> None:
    result = run_cli(
        "validate", "--format", "json", str(DATA / "invalid" / "literal_password.yaml")
    )
    assert "hunter2" not in result.output
    assert json.loads(result.output)[0]["rule"] == "literal-secret"


@pytest.mark.parametrize(
    "folder", [DATA / "valid", REPO / "definitions"], ids=["tests-data-valid", "definitions"]
)
def test_valid_definitions_pass(folder: Path) -> None:
    result = run_cli("validate", str(folder))
    assert result.exit_code == 0, result.output
    assert re.search(r"^0 errors, 0 warnings in \d+ files$", result.output, re.M), result.output


def test_default_path_is_definitions_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = run_cli("validate")
    assert result.exit_code == 0, result.output
    assert "in 2 files" in result.output


def schema_level() -> list[Path]:
    return [
        p
        for p in INVALID
        if p.name not in SIDE_TABLE and "# schema-level" in p.read_text().splitlines()[1]
    ]


def check_jsonschema(*paths: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("check-jsonschema")
    assert exe, "check-jsonschema is not installed"
    command = [exe, "--schemafile", str(REPO / "schemas" / "amtflow.schema.json"), *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_independent_validator_accepts_every_valid_example() -> None:
    files = sorted((DATA / "valid").rglob("*.yaml")) + sorted(
        (REPO / "definitions").rglob("*.yaml")
    )
    result = check_jsonschema(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_independent_validator_rejects_each_schema_level_invalid_file() -> None:
    files = schema_level()
    assert len(files) >= 25
    result = check_jsonschema(*files)
    assert result.returncode == 1
    rejected = {
        Path(line.split("::")[0].strip()).name
        for line in result.stdout.splitlines()
        if "::" in line
    }
    missed = sorted(p.name for p in files if p.name not in rejected and str(p) not in result.stdout)
    assert not missed, f"check-jsonschema accepted: {missed}\n{result.stdout}"
