"""jsonschema's errors in one file turned into human messages: the key or value at fault, the
named thing that holds it (`` in job 'X'``), a "did you mean", never a secret's value.

Each kind of error (jsonschema's ``validator``) has one handler; any other gets a generic line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .nodewords import TYPE_NAMES, field, label, node_at, owner, show
from .yamlmarks import Path_

if TYPE_CHECKING:  # the errors come from jsonschema, imported only when a file needs it
    from jsonschema.exceptions import ValidationError

Problem = tuple[Path_, bool, str, str]  # node path, point at the key?, message, rule

_BOOLEAN_WORDS = frozenset(("yes", "no", "on", "off", "y", "n"))
# Where a secret reference is expected, a literal is refused without ever being echoed.
_SECRET_FIELDS = {
    "password": "a password",
    "urls": "a notification URL",
}
_DURATIONS = frozenset(("max_run_time", "delay"))
_PATTERN_HINTS = {
    "batch_server_url": "is not a Batch Server URL: write scheme://host:port, e.g. http://batchserver:42000",
    "max_run_time": "is not a duration: write e.g. 90s, 5m, 2h or 1h30m",
    "delay": "is not a duration: write e.g. 90s, 5m, 2h or 1h30m",
    "start_time": "is not a time: write HH:MM, HH:MM:SS or +N HH:MM (N days later)",
    "latest_start": "is not a time: write HH:MM, HH:MM:SS or +N HH:MM (N days later)",
    "deadline": "is not a time: write HH:MM, HH:MM:SS or +N HH:MM (N days later)",
}


def explain(error: ValidationError, data: Any) -> Iterator[Problem]:
    """One jsonschema error in one file's data as the problems a user reads."""
    path = tuple(error.absolute_path)
    handler = _HANDLERS.get(str(error.validator), _generic)
    yield from handler(error, path, data)


def _unknown_keys(error: ValidationError, path: Path_, data: Any) -> Iterator[Problem]:
    allowed = sorted(error.schema.get("properties", {}))
    for key in error.instance:
        if key not in allowed:
            hint = _did_you_mean(key[:100], allowed) or _misplaced(key, path, error.schema)
            message = f"unknown key {show(key)}{owner(data, path)}{hint}"
            yield path + (key,), True, message, "unknown-key"


def _misplaced(key: str, path: Path_, schedule: Mapping[str, Any]) -> str:
    """A job's key on ``schedule`` (its schema, references inlined): the line is likely
    indented too little."""
    jobs = schedule.get("properties", {}).get("jobs", {}).get("items", {})
    if len(path) == 2 and path[0] == "schedules" and key in jobs.get("properties", {}):
        return f" ('{key}' is a job key: is it indented too little, under its job?)"
    return ""


def _did_you_mean(word: str, choices: list[str]) -> str:
    if word == "<<":
        return " (YAML merge keys are not supported)"
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _required(error: ValidationError, path: Path_, data: Any) -> Iterator[Problem]:
    for key in error.validator_value:
        if key not in error.instance:
            yield _missing(key, path, data)


def _missing(key: str, path: Path_, data: Any, task: str = "") -> Problem:
    note = f" (task: {task})" if task else ""
    return (  # at the missing key's path: shown at its mapping, and pruned as refused
        path + (key,),
        False,
        f"missing required key '{key}'{owner(data, path)}{note}",
        "schema",
    )


# A job's task decides which keys it needs and which it must not have. The schema says so with
# rules that cost a valid job nothing (issue 16): ``dependentSchemas`` (a key present asks for
# its task) and ``anyOf`` (one of the two task names present). Their raw errors are turned back
# into what the user wrote wrong, in the words of the task form.
_TASK_NAME_KEYS = {"batch_job": "job_name", "script": "script_name"}


def _needs_task_name(error: ValidationError) -> bool:
    branches = error.validator_value
    return all(isinstance(b, dict) and "required" in b for b in branches)


def _task_name_missing(error: ValidationError, path: Path_, data: Any) -> Iterator[Problem]:
    task = error.instance.get("task") if isinstance(error.instance, dict) else None
    if isinstance(task, str) and task in _TASK_NAME_KEYS:  # else its own error says what is wrong
        yield _missing(_TASK_NAME_KEYS[task], path, data, task)


def _wrong_task(error: ValidationError, path: Path_, data: Any) -> Iterator[Problem]:
    schema_path = list(error.absolute_schema_path)
    if "dependentSchemas" not in schema_path:
        yield from _generic(error, path, data)
        return
    task = error.instance
    if not isinstance(task, str) or task not in _TASK_NAME_KEYS:  # its enum error names it
        return
    key = schema_path[schema_path.index("dependentSchemas") + 1]
    job_path = path[:-1]  # the error is at the job's ``task``
    message = f"'{key}' is not allowed with task: {task}{owner(data, job_path)}"
    yield job_path + (key,), True, message, "schema"
    job, needed = node_at(data, job_path), _TASK_NAME_KEYS[task]
    if key in _TASK_NAME_KEYS.values() and isinstance(job, dict) and needed not in job:
        # the other task's name stood in for this one's in the ``anyOf``: say it is missing
        yield _missing(needed, job_path, data, task)


def _type(error: ValidationError, path: Path_, data: Any) -> Iterator[Problem]:
    expected = error.validator_value
    value = error.instance
    if field(path) in _SECRET_FIELDS:
        what = _SECRET_FIELDS[field(path)]
        yield (
            path,
            False,
            f"{what} must be {{env: NAME}} or {{file: PATH}}, never a literal",
            "literal-secret",
        )
    elif expected == "boolean" and isinstance(value, str) and value.lower() in _BOOLEAN_WORDS:
        yield path, False, f"'{value}' is not a boolean (YAML 1.2: write true or false)", "yaml-1.2"
    elif _is_number(value) and field(path) in _DURATIONS:
        yield path, False, _no_unit(value, path, data), "schema"
    elif field(path) == "depends_on" and isinstance(path[-1], int):
        wanted = "a job name or {job: NAME, on: ok|failed|finished}"
        yield path, False, f"a dependency must be {wanted}, not {show(value)}", "schema"
    else:
        wanted = " or ".join(
            TYPE_NAMES[t] for t in ([expected] if isinstance(expected, str) else expected)
        )
        hint = " (quote it to use it as text)" if expected == "string" and _is_number(value) else ""
        message = f"{label(path)}{owner(data, path)} must be {wanted}, not {show(value)}{hint}"
        yield path, False, message, "schema"


def _no_unit(value: Any, path: Path_, data: Any) -> str:
    unit = f"{value}s, {value}m or {value}h"
    return f"{label(path)} {show(value)}{owner(data, path)} has no unit: write {unit}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _too_many(error: ValidationError, path: Path_, data: Any) -> Iterator[Problem]:
    if field(path) in _SECRET_FIELDS and isinstance(error.instance, dict):
        yield from _too_few(error, path, data)
        return
    limit, count = error.validator_value, len(error.instance)
    yield path, False, f"at most {limit} {label(path)} (got {count}){owner(data, path)}", "schema"


def _too_few(error: ValidationError, path: Path_, data: Any) -> Iterator[Problem]:
    if field(path) in _SECRET_FIELDS and isinstance(error.instance, dict):
        what = _SECRET_FIELDS[field(path)]
        message = f"{what} must be exactly one of {{env: NAME}} or {{file: PATH}}"
        yield path, False, message, "literal-secret"
    else:
        yield path, False, f"{label(path)}{owner(data, path)} must not be empty", "schema"


def _enum(error: ValidationError, path: Path_, data: Any) -> Iterator[Problem]:
    choices = [str(choice) for choice in error.validator_value]
    hint = _did_you_mean(str(error.instance), choices) if isinstance(error.instance, str) else ""
    subject = f"{label(path)} {show(error.instance)}{owner(data, path)}"
    yield path, False, f"{subject} is not one of {', '.join(choices)}{hint}", "schema"


def _pattern(error: ValidationError, path: Path_, data: Any) -> Iterator[Problem]:
    value = show(error.instance)
    if "propertyNames" in error.absolute_schema_path:
        yield path + (error.instance,), True, f"{value} is not a valid name here", "schema"
    elif "[0-9]{4}-" in error.validator_value:
        yield path, False, f"{value}{owner(data, path)} is not a date: write YYYY-MM-DD", "schema"
    elif field(path) in _DURATIONS and str(error.instance).isdigit():
        yield path, False, _no_unit(error.instance, path, data), "schema"
    else:
        hint = _PATTERN_HINTS.get(field(path), "has the wrong form")
        yield path, False, f"{label(path)} {value}{owner(data, path)} {hint}", "schema"


def _minimum(error: ValidationError, path: Path_, data: Any) -> Iterator[Problem]:
    subject = f"{label(path)}{owner(data, path)}"
    yield (
        path,
        False,
        f"{subject} must be at least {error.validator_value}, not {error.instance}",
        "schema",
    )


def _any_of(error: ValidationError, path: Path_, data: Any) -> Iterator[Problem]:
    if _needs_task_name(error):
        yield from _task_name_missing(error, path, data)
    else:
        yield from _generic(error, path, data)


def _generic(error: ValidationError, path: Path_, data: Any) -> Iterator[Problem]:
    detail = error.message if len(error.message) <= 200 else error.message[:200] + "..."
    yield path, False, f"{label(path)}{owner(data, path)}: {detail}", "schema"


_HANDLERS = {
    "additionalProperties": _unknown_keys,
    "required": _required,
    "const": _wrong_task,
    "type": _type,
    "maxItems": _too_many,
    "maxProperties": _too_many,
    "minItems": _too_few,
    "minProperties": _too_few,
    "minLength": _too_few,
    "enum": _enum,
    "pattern": _pattern,
    "minimum": _minimum,
    "anyOf": _any_of,
}
