"""A job's task decides the keys it needs and the keys it must not have (issue 16 rewrote these
schema rules so that a valid job costs the validator no throw-away errors): every mistake still
reads as the task form would say it, once, at the key or job concerned."""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema.exceptions import ValidationError

from amtflow.definitions import validate
from amtflow.definitions.schema import schema_problems
from amtflow.definitions.textfields import is_text
from amtflow.definitions.yamlload import read_document

from .conftest import Write, schedule_head

HEAD = schedule_head()

CASES = {
    "a batch job's script name stands in for its job name": (
        "{name: A, task: batch_job, script_name: x.ps1}",
        [
            "10:9: missing required key 'job_name' in job 'A' (task: batch_job)",
            "10:36: 'script_name' is not allowed with task: batch_job in job 'A'",
        ],
    ),
    "both names": (
        "{name: A, task: batch_job, job_name: A, script_name: x.ps1}",
        ["10:49: 'script_name' is not allowed with task: batch_job in job 'A'"],
    ),
    "every script key on a batch job": (
        "{name: A, task: batch_job, script_name: x.ps1, script_parameters: {X: 1}}",
        [
            "10:9: missing required key 'job_name' in job 'A' (task: batch_job)",
            "10:36: 'script_name' is not allowed with task: batch_job in job 'A'",
            "10:56: 'script_parameters' is not allowed with task: batch_job in job 'A'",
        ],
    ),
    "batch keys on a script": (
        "{name: S, task: script, job_name: A, task_values: [A=1]}",
        [
            "10:9: missing required key 'script_name' in job 'S' (task: script)",
            "10:33: 'job_name' is not allowed with task: script in job 'S'",
            "10:46: 'task_values' is not allowed with task: script in job 'S'",
        ],
    ),
    "a script without its name": (
        "{name: S, task: script}",
        ["10:9: missing required key 'script_name' in job 'S' (task: script)"],
    ),
    "a batch job with task values but no job name": (
        "{name: S, task: batch_job, task_values: [A=1]}",
        ["10:9: missing required key 'job_name' in job 'S' (task: batch_job)"],
    ),
    "an unknown task is named once": (
        "{name: A, task: batchjob, job_name: A}",
        [
            "10:25: task 'batchjob' in job 'A' is not one of batch_job, script "
            "(did you mean 'batch_job'?)"
        ],
    ),
    "no task, a script name": (
        "{name: A, script_name: x}",
        ["10:9: missing required key 'task' in job 'A'"],
    ),
    "no task, no name": ("{name: A}", ["10:9: missing required key 'task' in job 'A'"]),
    "a task that is a list": (
        "{name: A, task: [batch_job], job_name: A}",
        [
            "10:25: task a list in job 'A' is not one of batch_job, script",
            "10:25: task in job 'A' must be text, not a list",
        ],
    ),
    "dependencies of every wrong shape": (
        "{name: B, task: batch_job, job_name: B, depends_on: [5, '', {on: ok}, {job: B, on: x},"
        " [B], {job: ''}, null]}",
        [
            "10:61: dependency cycle in schedule 'NIGHTLY': B -> B",
            "10:62: a dependency must be a job name or {job: NAME, on: ok|failed|finished}, not 5",
            "10:65: dependency in job 'B' must not be empty",
            "10:69: missing required key 'job' in job 'B'",
            "10:92: on 'x' in job 'B' is not one of ok, failed, finished",
            "10:96: a dependency must be a job name or {job: NAME, on: ok|failed|finished}, "
            "not a list",
            "10:107: job in job 'B' must not be empty",
            "10:112: a dependency must be a job name or {job: NAME, on: ok|failed|finished}, "
            "not empty",
        ],
    ),
}


@pytest.mark.parametrize("job, expected", CASES.values(), ids=list(CASES))
def test_task_mistakes_read_as_the_task_form_says(
    write: Write, job: str, expected: list[str]
) -> None:
    path = write("n.yaml", f"{HEAD}      - {job}\n")
    found = [
        f"{d.location.line}:{d.location.column}: {d.message}" for d in validate([path]).diagnostics
    ]
    assert found == expected


def test_both_tasks_with_every_key_they_may_have_are_valid(write: Write) -> None:
    path = write(
        "n.yaml",
        HEAD
        + "      - {name: A, task: batch_job, job_name: A, task_values: [X=1]}\n"
        + "      - {name: S, task: script, script_name: s.ps1, script_parameters: {X: 1}}\n",
    )
    assert validate([path]).diagnostics == ()


def _errors_built(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[object]]:
    document = read_document(path, is_text)
    built = []
    original = ValidationError.__init__

    def counting(self: ValidationError, *args: object, **kwargs: object) -> None:
        built.append(self)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ValidationError, "__init__", counting)
    problems = list(schema_problems(document.data))
    return len(built), problems


def test_valid_batch_jobs_cost_the_validator_no_error_objects(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = "".join(
        f"      - {{name: J{i}, task: batch_job, job_name: J{i}, task_values: [X=1],"
        f" depends_on: [{{job: J{i - 1}, on: finished}}]}}\n"
        for i in range(1, 50)
    )
    built, problems = _errors_built(write("n.yaml", HEAD + jobs), monkeypatch)
    assert problems == []
    assert built == 0


def test_a_valid_script_costs_at_most_one_error_object(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ``anyOf`` asks for job_name first, so a script's check builds one, never more."""
    jobs = "".join(
        f"      - {{name: S{i}, task: script, script_name: s.ps1, script_parameters: {{X: 1}}}}\n"
        for i in range(50)
    )
    built, problems = _errors_built(write("n.yaml", HEAD + jobs), monkeypatch)
    assert problems == []
    assert built <= 50
