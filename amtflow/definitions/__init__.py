"""Reading job definitions: YAML with positions -> schema -> cross-checks -> frozen model.

    validate(paths) -> Validation      every error and warning, and the model when clean
    load(paths) -> Definitions         the model, or DefinitionError carrying every error

Each file named (or found in a folder named) is checked together with the files it includes; a
file reached from several roots is read once and reports each of its problems once. The model
returned covers every file read. No network and no secret is needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from amtflow.errors import DefinitionError
from amtflow.model import Definitions

from .build import ModelBuilder
from .checks import cross_check
from .diagnostics import Collector, Diagnostic, Validation
from .entries import Index
from .schema import schema, schema_text
from .sources import SourceFile, Sources, find_roots

__all__ = ["Diagnostic", "Validation", "load", "schema", "schema_text", "validate"]


def validate(
    paths: Sequence[Path | str], *, properties: Mapping[str, str] | None = None
) -> Validation:
    """Validate the definition files ``paths`` name (files, or folders searched recursively)."""
    extra = dict(properties or {})
    sources, collector = Sources(), Collector()
    for root in find_roots(list(paths)):
        _check_closure(sources.closure(root, collector), collector, extra)
    files = list(sources.files.values())
    for source in files:
        collector.extend(source.problems)
    definitions = None if collector.has_errors else _model(files, collector, extra)
    if collector.has_errors:  # roots valid on their own may still clash once merged
        definitions = None
    return Validation(definitions, collector.sorted(), tuple(source.display for source in files))


def _check_closure(files: list[SourceFile], collector: Collector, extra: Mapping[str, str]) -> None:
    # A schema error does not hide the cross-check errors of the valid parts; a file that did not
    # load at all would make every reference to what it defines look unknown, so it does.
    if all(source.checkable for source in files):
        cross_check(Index.of(files, collector), collector, set(extra))


def _model(files: list[SourceFile], collector: Collector, extra: Mapping[str, str]) -> Definitions:
    return ModelBuilder(Index.of(files, collector), collector).definitions(extra)


def load(
    paths: Sequence[Path | str], *, properties: Mapping[str, str] | None = None
) -> Definitions:
    """The validated model of ``paths``; raises ``DefinitionError`` with every error if any.

    Warnings do not stop loading; use ``validate()`` to see them.
    """
    validation = validate(paths, properties=properties)
    if validation.definitions is None:
        errors = validation.errors
        first = errors[0] if errors else "definitions do not validate"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise DefinitionError(f"{first}{more}", errors)
    return validation.definitions
