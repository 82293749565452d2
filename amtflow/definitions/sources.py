"""Definition files on disk: which files a command line names, and what each one includes.

A file is read, parsed and schema-checked once, however many files include it. ``include:``
paths resolve relative to the including file, must stay inside the repository (the folder
holding ``.git`` above the root file, else the folder given on the command line, else the root
file's folder), and must not loop; a diamond (the same file reached twice) is loaded once.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amtflow.errors import UsageError
from amtflow.model import Location

from .diagnostics import Collector, Diagnostic
from .files import resolve, unreadable
from .prune import valid_parts
from .schema import schema_problems
from .textfields import is_text
from .yamlload import YamlDocument, file_limits, read_document
from .yamlmarks import Path_, YamlProblem
from .yamlnodes import NODES_ENV

SUFFIXES = (".yaml", ".yml")
MAX_SCHEMA_PROBLEMS = (
    200  # per file: a file of 40,000 unknown keys says so in 200 lines, not 40,000
)
PROJECT_FILE = (
    "amtflow.yaml"  # the project file (amtflow.definitions.project), never a definitions file
)
MAX_INCLUDE_DEPTH = 32  # files in one include chain; deeper is refused, not a RecursionError
# The YAML nodes of all the files one command reads, in files at the node limit: the limit of one
# file bounds its cost (~2 s, ~50 MB at the default), this bounds a tree of many such files (a
# pull request adding a hundred of them) instead of multiplying it. Raised with the node limit.
FILES_AT_THE_NODE_LIMIT = 4


@dataclass(frozen=True)
class Root:
    """A file named on the command line (or found in a folder named there) and its boundary."""

    path: Path
    display: str
    boundary: Path


@dataclass
class SourceFile:
    """One definition file: its document (None if it did not load) and its own problems."""

    path: Path
    display: str
    document: YamlDocument | None = None
    problems: list[Diagnostic] = field(default_factory=list)
    valid: Any = None  # the document's data without what the schema refused (``prune``)

    def location(self, path: Path_ = (), *, key: bool = False) -> Location:
        """The location of the node at ``path`` in this file."""
        line, column = self.document.position(path, key=key) if self.document else (1, 1)
        return Location(self.display, line, column)

    @property
    def data(self) -> dict[str, Any]:
        """The file's top-level mapping without the nodes the schema refused; ``{}`` if none."""
        return self.valid if isinstance(self.valid, dict) else {}

    @property
    def ok(self) -> bool:
        return self.document is not None and not self.problems

    @property
    def checkable(self) -> bool:
        """Loaded, and every schema problem is known: its valid parts can be cross-checked."""
        return self.document is not None and not any(p.rule == "limit" for p in self.problems)


def find_roots(paths: list[Path | str]) -> list[Root]:
    """The definition files that ``paths`` name: files as given, folders searched recursively."""
    roots: list[Root] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            roots.extend(_folder_roots(path))
        else:
            roots.append(_file_root(path, str(given)))
    return roots


def _file_root(path: Path, given: str) -> Root:
    resolved, problem = resolve(path), unreadable(path)
    if problem == "not found":
        raise UsageError(f"no such file or folder: {given}")
    if problem or not isinstance(resolved, Path):
        raise UsageError(f"cannot read {given}: it is {problem or resolved}")
    return Root(resolved, given, repository(resolved.parent) or resolved.parent)


def _folder_roots(folder: Path) -> list[Root]:
    top = folder.resolve()
    boundary = repository(top) or top
    unreadable: list[OSError] = []
    found = sorted(_definition_files(folder, unreadable.append))
    if unreadable:  # a tree checked in part must not pass as checked (pre-commit, CI)
        first = unreadable[0]
        more = f" (and {len(unreadable) - 1} more)" if len(unreadable) > 1 else ""
        raise UsageError(f"cannot read folder {first.filename}: {first.strerror}{more}")
    if not found:
        raise UsageError(f"no *.yaml or *.yml files in {folder}")
    return [Root(path.resolve(), str(path), boundary) for path in found]


def _definition_files(folder: Path, unreadable: Callable[[OSError], None]) -> Iterator[Path]:
    """The definition files under ``folder``: hidden names and symlinked folders are not
    entered, and ``unreadable`` hears of each folder that cannot be listed."""
    for parent, folders, names in os.walk(folder, onerror=unreadable):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in names:
            path = Path(parent, name)
            if (
                path.suffix in SUFFIXES
                and name != PROJECT_FILE
                and not name.startswith(".")
                and path.is_file()
            ):
                yield path


@functools.lru_cache(maxsize=256)
def repository(folder: Path) -> Path | None:
    """The nearest folder at or above ``folder`` that holds ``.git``."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


class Sources:
    """Reads each file once and walks include graphs, reporting include problems."""

    def __init__(self) -> None:
        self.files: dict[Path, SourceFile] = {}
        self.cwd = Path.cwd()
        self.total_nodes = FILES_AT_THE_NODE_LIMIT * file_limits()[1]
        self.nodes_left = self.total_nodes

    def read(self, path: Path, display: str | None = None) -> SourceFile:
        """The file at the resolved ``path``, read and schema-checked on first use; once the
        files read hold ``total_nodes`` YAML nodes together, the next are refused unread."""
        if path not in self.files:
            display = display or self._display(path)
            if self.nodes_left > 0:
                self.files[path] = _load(path, display)
                document = self.files[path].document
                self.nodes_left -= document.nodes if document else 0
            else:
                self.files[path] = _over_the_total(path, display, self.total_nodes)
        return self.files[path]

    def _display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.cwd))
        except ValueError:
            return str(path)

    def closure(self, root: Root, collector: Collector) -> list[SourceFile]:
        """The root file and every file it includes, each once, root first."""
        seen: dict[Path, SourceFile] = {}
        self._visit(self.read(root.path, root.display), root.boundary, (), seen, collector)
        return list(seen.values())

    def _visit(
        self,
        source: SourceFile,
        boundary: Path,
        chain: tuple[SourceFile, ...],
        seen: dict[Path, SourceFile],
        collector: Collector,
    ) -> None:
        seen[source.path] = source
        chain = (*chain, source)
        for target, location in self._includes(source, boundary, collector):
            if len(chain) >= MAX_INCLUDE_DEPTH:
                message = f"includes nest deeper than {MAX_INCLUDE_DEPTH} files (refused)"
                collector.error(location, message, "include")
            elif any(item.path == target for item in chain):
                loop = " -> ".join(item.display for item in (*chain, self.read(target)))
                collector.error(location, f"include loop: {loop}", "include")
            elif target not in seen:
                self._visit(self.read(target), boundary, chain, seen, collector)

    def _includes(
        self, source: SourceFile, boundary: Path, collector: Collector
    ) -> list[tuple[Path, Location]]:
        targets = []
        raw = source.document.data if source.document else None
        includes = raw.get("include") if isinstance(raw, dict) else None
        for index, name in enumerate(includes if isinstance(includes, list) else []):
            if not isinstance(name, str):
                continue
            location = source.location(("include", index))
            target = resolve(source.path.parent / name)
            problem = _include_problem(target, boundary)
            if problem:
                collector.error(location, f"include '{_shown(name)}' {problem}", "include")
            else:
                targets.append((Path(target), location))
        return targets


def _include_problem(target: Path | str, boundary: Path) -> str | None:
    if isinstance(target, str):
        return f"cannot be read: it is {target}"
    if not target.is_relative_to(boundary):
        return f"is outside the repository ({boundary})"
    problem = unreadable(target)
    if problem == "not found":
        return problem
    return f"cannot be read: it is {problem}" if problem else None


def _shown(name: str, limit: int = 200) -> str:
    return name if len(name) <= limit else f"{name[:limit]}... ({len(name)} characters)"


def _over_the_total(path: Path, display: str, total: int) -> SourceFile:
    source = SourceFile(path, display)
    message = (
        f"not read: the files read before it hold more than {total} YAML nodes together "
        f"(refused); for trusted files raise {NODES_ENV}"
    )
    source.problems.append(Diagnostic(Location(display, 1, 1), "error", message, "limit"))
    return source


def _load(path: Path, display: str) -> SourceFile:
    source = SourceFile(path, display)
    try:
        source.document = read_document(path, is_text)
    except YamlProblem as problem:
        location = Location(display, problem.line, problem.column)
        source.problems.append(Diagnostic(location, "error", problem.message, problem.rule))
        return source
    problems = itertools.islice(schema_problems(source.document.data), MAX_SCHEMA_PROBLEMS + 1)
    refused = []
    for count, (node_path, key, message, rule) in enumerate(problems):
        shown = (message, rule)
        if count == MAX_SCHEMA_PROBLEMS:
            shown = (
                f"more errors in this file (only the first {MAX_SCHEMA_PROBLEMS} are shown)",
                "limit",
            )
        refused.append(node_path)
        source.problems.append(Diagnostic(source.location(node_path, key=key), "error", *shown))
    if source.checkable:  # past the limit the rest is unknown: nothing is cross-checked
        source.valid = valid_parts(source.document.data, refused)
    return source
