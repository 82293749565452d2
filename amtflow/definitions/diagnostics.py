"""What validation finds: diagnostics (errors and warnings) pointing at a YAML node."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from amtflow.model import Definitions, Location

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem found in the definitions, at the YAML node it is about."""

    location: Location
    severity: Severity
    message: str
    rule: str = field(default="schema", compare=False)

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class Validation:
    """The outcome of validating a set of definition files.

    ``definitions`` is None when there is any error; ``diagnostics`` holds every error and
    warning, sorted by path, line and column; ``files`` the display paths of every file read.
    """

    definitions: Definitions | None
    diagnostics: tuple[Diagnostic, ...] = ()
    files: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if not d.is_error)

    @property
    def ok(self) -> bool:
        return not self.errors


class Collector:
    """Gathers diagnostics once each, in the order found."""

    def __init__(self) -> None:
        self._seen: dict[Diagnostic, None] = {}

    def error(self, location: Location, message: str, rule: str) -> None:
        self.add(Diagnostic(location, "error", message, rule))

    def warning(self, location: Location, message: str, rule: str) -> None:
        self.add(Diagnostic(location, "warning", message, rule))

    def add(self, diagnostic: Diagnostic) -> None:
        self._seen.setdefault(diagnostic, None)

    def extend(self, diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
        for diagnostic in diagnostics:
            self.add(diagnostic)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self._seen)

    def sorted(self) -> tuple[Diagnostic, ...]:
        return tuple(sorted(self._seen))
