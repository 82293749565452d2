"""The project file ``amtflow.yaml``: settings of a definitions repository.

Found as pre-commit and ruff find theirs: in the current folder or the nearest one above it.
It names the definitions roots (for ``validate``, ``agents check`` and ``logs purge`` given no
path), the state dir, the log dir and the default of ``--max-parallel``; relative paths are
relative to the file. It is read with the definitions' YAML loader and checked against its own
schema (``amtflow schema --project``). A command option, then an ``AMTFLOW_*`` variable, win
over it; without a project file the defaults are relative to the current folder, as before.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amtflow.definitions.diagnostics import Diagnostic
from amtflow.definitions.schema import PROJECT_SCHEMA, schema_problems
from amtflow.definitions.sources import PROJECT_FILE
from amtflow.definitions.yamlload import read_document
from amtflow.definitions.yamlmarks import YamlProblem
from amtflow.errors import DefinitionError
from amtflow.model import Location

DEFAULT_DEFINITIONS = "definitions"
DEFAULT_STATE_DIR = ".amtflow"
DEFAULT_LOG_DIR = ".amtflow/logs"
DEFAULT_MAX_PARALLEL = 50


@dataclass(frozen=True)
class Settings:
    """The settings in force: from the project file where it sets them, else the defaults."""

    file: Path | None
    definitions: tuple[Path, ...]
    state_dir: Path
    log_dir: Path
    max_parallel: int


def find_project_file(start: Path) -> Path | None:
    """``amtflow.yaml`` in ``start`` or the nearest folder above it that has one."""
    for folder in (start, *start.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def settings(start: Path | None = None) -> Settings:
    """The settings for the current folder (or ``start``); DefinitionError if the file is bad."""
    return _settings(Path(start or Path.cwd()).resolve())


@functools.lru_cache(maxsize=8)
def _settings(start: Path) -> Settings:
    file = find_project_file(start)
    data = _read(file) if file else {}
    base = file.parent if file else Path()
    roots = data.get("definitions", [DEFAULT_DEFINITIONS])
    return Settings(
        file=file,
        definitions=tuple(_shown(base / root) for root in roots),
        state_dir=_shown(base / data.get("state_dir", DEFAULT_STATE_DIR)),
        log_dir=_shown(base / data.get("log_dir", DEFAULT_LOG_DIR)),
        max_parallel=data.get("max_parallel", DEFAULT_MAX_PARALLEL),
    )


def _shown(path: Path) -> Path:
    """``path`` relative to the current folder when that is shorter, as a user would write it."""
    if not path.is_absolute():
        return path
    relative = os.path.relpath(path)
    return Path(relative) if len(relative) < len(str(path)) else path


def _read(file: Path) -> dict[str, Any]:
    display = str(_shown(file))
    try:
        document = read_document(file)
    except YamlProblem as problem:
        if problem.message.startswith("empty file"):
            return {}  # an empty amtflow.yaml marks the project's folder: every default applies
        location = Location(display, problem.line, problem.column)
        raise _invalid([Diagnostic(location, "error", problem.message, problem.rule)]) from None
    found = [
        Diagnostic(Location(display, *document.position(path, key=key)), "error", message, rule)
        for path, key, message, rule in schema_problems(document.data, PROJECT_SCHEMA)
    ]
    if found:
        raise _invalid(found)
    data: dict[str, Any] = document.data
    return data


def _invalid(diagnostics: list[Diagnostic]) -> DefinitionError:
    diagnostics = sorted(diagnostics)
    first = diagnostics[0]
    more = f" (and {len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
    return DefinitionError(f"{first}{more}", tuple(diagnostics))
