"""Validation results for people (``path:line:col: error: message``) and machines (json, github)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.markup import escape

from amtflow import report
from amtflow.definitions import Diagnostic, Validation
from amtflow.report import terminal_safe

FORMATS = ("text", "json", "github")
_COLOURS = {"error": "bold red", "warning": "yellow"}


def show(validation: Validation, output_format: str = "text") -> None:
    """Print every diagnostic of ``validation`` in ``output_format``, then (text) a count."""
    if output_format == "json":
        report.plain(as_json(validation.diagnostics))
    elif output_format == "github":
        for diagnostic in validation.diagnostics:
            report.plain(as_github(diagnostic))
    else:
        for diagnostic in validation.diagnostics:
            _print_text(diagnostic)
        report.stdout.print(summary(validation))


def _print_text(diagnostic: Diagnostic) -> None:
    colour = _COLOURS[diagnostic.severity]
    report.stdout.print(
        f"{_markup(str(diagnostic.location))}: [{colour}]{diagnostic.severity}:[/] {_markup(diagnostic.message)}"
    )


def _markup(text: str) -> str:
    return escape(terminal_safe(text))


def summary(validation: Validation) -> str:
    """``2 errors, 1 warning in 5 files``."""
    return (
        f"{_count(len(validation.errors), 'error')}, {_count(len(validation.warnings), 'warning')}"
        f" in {_count(len(validation.files), 'file')}"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def as_json(diagnostics: Sequence[Diagnostic]) -> str:
    """A JSON list of objects: path, line, column, severity, message, rule."""
    return json.dumps(
        [
            {
                "path": d.location.path,
                "line": d.location.line,
                "column": d.location.column,
                "severity": d.severity,
                "message": d.message,
                "rule": d.rule,
            }
            for d in diagnostics
        ],
        indent=2,
    )


def as_github(diagnostic: Diagnostic) -> str:
    """A GitHub Actions workflow annotation."""
    where = diagnostic.location
    message = diagnostic.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    path = where.path.replace("%", "%25").replace(",", "%2C").replace(":", "%3A")
    message, path = terminal_safe(message), terminal_safe(path)
    return f"::{diagnostic.severity} file={path},line={where.line},col={where.column}::{message}"


def show_errors(diagnostics: Sequence[object]) -> None:
    """Every diagnostic of a failed load, on stderr (for plan, run and the other commands)."""
    for diagnostic in diagnostics:
        if isinstance(diagnostic, Diagnostic):
            report.stderr.print(
                f"{_markup(str(diagnostic.location))}: [bold red]{diagnostic.severity}:[/] "
                f"{_markup(diagnostic.message)}"
            )
        else:
            report.error(terminal_safe(str(diagnostic)))
