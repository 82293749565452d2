"""The JSON Schema of definition files, and the check of one file's data against it (its errors
as human messages are ``schemamessages``).

The schema ships in the wheel as ``amtflow/_schema/amtflow.schema.json``; in a source checkout it
is ``schemas/amtflow.schema.json``. The validator is built once per process; a file that
``fastcheck`` finds valid skips it (and jsonschema is then never imported).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amtflow.errors import DefinitionError

from .fastcheck import Check, compile_check
from .inline import inline_refs
from .schemamessages import Problem, explain

if TYPE_CHECKING:  # jsonschema is imported only for a file the quick check does not pass
    import jsonschema


DEFINITIONS_SCHEMA = "amtflow.schema.json"
PROJECT_SCHEMA = "amtflow-project.schema.json"  # the project file, amtflow.yaml


def schema_text(name: str = DEFINITIONS_SCHEMA) -> str:
    """A schema file's text, from the installed package or the source checkout."""
    packaged = Path(__file__).resolve().parents[1] / "_schema" / name  # importlib.resources'
    if packaged.is_file():  # answer for an installed amtflow, without its ~10 ms import
        return packaged.read_text(encoding="utf-8")
    source = Path(__file__).resolve().parents[2] / "schemas" / name
    try:
        return source.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(f"the amtflow schema is missing ({source})") from exc


@functools.lru_cache(maxsize=2)
def schema(name: str = DEFINITIONS_SCHEMA) -> dict[str, Any]:
    """A schema as a mapping."""
    loaded: dict[str, Any] = json.loads(schema_text(name))
    return loaded


@functools.lru_cache(maxsize=2)
def _validator(name: str) -> jsonschema.Draft202012Validator:
    import jsonschema  # ~0.13 s of CPU that a valid file never pays (issue 16)

    return jsonschema.Draft202012Validator(inline_refs(schema(name)))


@functools.lru_cache(maxsize=2)
def _surely_valid(name: str) -> Check:
    return compile_check(inline_refs(schema(name)))


def schema_problems(data: Any, name: str = DEFINITIONS_SCHEMA) -> Iterator[Problem]:
    """Every schema violation in one file's data, as human messages, found as they are read.

    A file the quick check (``fastcheck``) passes has none; any other is left to jsonschema."""
    if _surely_valid(name)(data):
        return
    for error in _validator(name).iter_errors(data):
        yield from explain(error, data)
