"""YAML 1.2 typing, limits, includes, the model, properties, output formats and the schema command."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from amtflow import properties as props
from amtflow.definitions import load, validate
from amtflow.definitions.yamlload import YamlProblem, read_document
from amtflow.errors import DefinitionError
from amtflow.model import Condition
from amtflow.task import TaskType

from .conftest import DATA, REPO, run_cli


def test_yaml_12_plain_types(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "on: NO\nd: 2026-12-25\noctal: 0777\nflag: TRUE\nyes: yes\nnull_: ~\nhex: 0x1F\n"
    )
    assert read_document(path).data == {
        "on": "NO",
        "d": "2026-12-25",
        "octal": 777,
        "flag": True,
        "yes": "yes",
        "null_": None,
        "hex": 31,
    }


def test_duplicate_key_is_an_error_at_the_second_key(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("a: 1\nb: 2\na: 3\n")
    with pytest.raises(YamlProblem, match="duplicate key 'a' \\(first at line 1\\)") as info:
        read_document(path)
    assert (info.value.line, info.value.column) == (3, 1)


def test_billion_laughs_is_refused_fast() -> None:
    # refused by the alias limit, before anything is expanded: expanding it would not end within
    # pytest-timeout's bound (nor fit in memory), so no wall-time threshold is needed here
    with pytest.raises(YamlProblem, match="aliases expand"):
        read_document(DATA / "invalid" / "billion_laughs.yaml")


def test_oversized_file_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amtflow.definitions import yamlload

    monkeypatch.setattr(yamlload, "MAX_BYTES", 10)
    path = tmp_path / "t.yaml"
    path.write_text("version: 1\n# padding\n")
    with pytest.raises(YamlProblem, match="file too large"):
        read_document(path)


def test_model_applies_defaults_and_converts_values() -> None:
    definitions = load([DATA / "valid" / "spec_example.yaml"])
    nightly = definitions.schedules["NIGHTLY"]
    report, script, recover = nightly.jobs
    assert (report.agent, report.task.application, report.task.queue) == (
        "amt-demo",
        "[[AMT_APPLICATION]]",
        "NORMAL",
    )
    assert (report.task.submit_user, report.task.station) == ("BATCH", "OPCON")
    assert report.max_run_time == 5400.0
    assert (report.retry.attempts, report.retry.delay) == (1, 90.0)
    assert (
        script.task.type is TaskType.SCRIPT
        and script.agent == "amt-ipv6"
        and script.max_run_time == 7200.0
    )
    assert script.task.parameters == ("INPUT=daily.csv", "COUNT=3", "FLAG=true")
    assert script.retry.on_codes == frozenset({11, 23}) and script.retry.delay == 300.0
    assert [(d.job, d.on) for d in recover.depends_on] == [
        ("FILENAMETEST", Condition.FAILED),
        ("REPORTTEST01", Condition.OK),
    ]
    assert definitions.calendars["holidays"].dates == {dt.date(2026, 12, 25), dt.date(2027, 1, 1)}
    assert nightly.frequency.exclude_dates == {dt.date(2026, 11, 11)}
    agent = definitions.agents["amt-demo"]
    assert agent.tls.ca_bundle == str((DATA / "valid" / "certs" / "amt-ca.pem").resolve())
    assert not agent.enabled and agent.max_concurrent_jobs == 5
    assert str(report.location).endswith("spec_example.yaml:35:9")
    assert len(definitions.digest) == 64


def test_load_raises_with_every_error() -> None:
    with pytest.raises(DefinitionError) as info:
        load([DATA / "invalid" / "unknown_key_misspelt.yaml"])
    assert len(info.value.diagnostics) == 2
    assert "missing required key 'job_name'" in str(info.value)


def test_diamond_include_loads_the_shared_file_once() -> None:
    validation = validate([DATA / "valid" / "diamond" / "top.yaml"])
    assert validation.ok
    assert validation.definitions is not None
    assert len(validation.definitions.files) == 4
    assert "base-agent" in validation.definitions.agents


def test_a_file_included_twice_reports_its_problem_once(write) -> None:  # type: ignore[no-untyped-def]
    write(
        "common.yaml",
        "agents:\n  - {name: a, batch_server_url: 'http://h:1', batch_user: nobody}\n",
    )
    one = write("one.yaml", "include: [common.yaml]\n")
    write("two.yaml", "include: [common.yaml]\n")
    validation = validate([one.parent])
    assert [d.message for d in validation.errors] == ["unknown batch user 'nobody'"]


def test_include_outside_the_given_top_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text("version: 1\n")
    top = tmp_path / "defs"
    top.mkdir()
    (top / "a.yaml").write_text("include: [../outside.yaml]\n")
    validation = validate([top])
    assert [d.rule for d in validation.errors] == ["include"]
    assert "outside the repository" in validation.errors[0].message


def test_warnings_do_not_fail_validation(write) -> None:  # type: ignore[no-untyped-def]
    path = write(
        "w.yaml",
        """\
        batch_users: [{name: u, identifier: I, password: {env: P}}]
        agents: [{name: a, batch_server_url: "https://h:1", batch_user: u, tls: {verify: false}}]
        schedules:
          - name: S
            defaults: {agent: a, application: APP, submit_user: OTHER}
            jobs: [{name: J, task: batch_job, job_name: J}]
        """,
    )
    result = run_cli("validate", str(path))
    assert result.exit_code == 0, result.output
    assert "w.yaml:2:82: warning: TLS verification is off" in result.output
    assert (
        "warning: submit_user is 'OTHER', not the default 'BATCH': the server routes on it"
        in result.output
    )
    assert "0 errors, 2 warnings in 1 file" in result.output


def test_property_option_satisfies_a_reference(write) -> None:  # type: ignore[no-untyped-def]
    text = (DATA / "invalid" / "unknown_builtin.yaml").read_text().replace("$SCHEDULE DAY", "EXTRA")
    path = write("p.yaml", text)
    assert run_cli("validate", str(path)).exit_code == 2
    assert run_cli("validate", "--property", "EXTRA=1", str(path)).exit_code == 0
    bad = run_cli("validate", "--property", "EXTRA", str(path))
    assert bad.exit_code == 2
    assert "'EXTRA' is not NAME=VALUE" in bad.output


def test_json_and_github_formats() -> None:
    path = DATA / "invalid" / "unknown_agent.yaml"
    result = run_cli("validate", "--format", "json", str(path))
    assert result.exit_code == 2
    [item] = json.loads(result.output)
    assert item == {
        "path": str(path),
        "line": 18,
        "column": 16,
        "severity": "error",
        "message": "unknown agent 'amt-dmeo' (did you mean 'amt-demo'?)",
        "rule": "unknown-reference",
    }
    github = run_cli("validate", "--format", "github", str(path))
    assert (
        github.output.strip()
        == f"::error file={path},line=18,col=16::unknown agent 'amt-dmeo' (did you mean 'amt-demo'?)"
    )


def test_missing_path_is_a_usage_error() -> None:
    result = run_cli("validate", "no/such/file.yaml")
    assert "no such file or folder" in str(result.exception)


def test_schema_command_prints_the_schema_file() -> None:
    result = run_cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.output) == json.loads(
        (REPO / "schemas" / "amtflow.schema.json").read_text()
    )


def _walk_properties(schema: object) -> list[dict[str, object]]:
    """Every property definition of the schema (not the schemas inside `if`)."""
    found: list[dict[str, object]] = []
    if not isinstance(schema, dict):
        return found
    for sub in schema.get("properties", {}).values():
        found.append(sub)
        found.extend(_walk_properties(sub))
    for key in ("items", "additionalProperties", "then"):
        found.extend(_walk_properties(schema.get(key)))
    for sub in [
        *schema.get("$defs", {}).values(),
        *schema.get("allOf", []),
        *schema.get("anyOf", []),
    ]:
        found.extend(_walk_properties(sub))
    return found


def test_every_schema_property_has_a_description() -> None:
    schema = json.loads((REPO / "schemas" / "amtflow.schema.json").read_text())
    assert schema["$id"] and schema["$schema"].endswith("2020-12/schema")
    missing = [p for p in _walk_properties(schema) if "description" not in p]
    assert not missing


CONTEXT = props.PropertyContext(
    properties={
        "PERIOD": "[[$SCHEDULE DATE:%Y-%m]]",
        "OUT": "/data/[[PERIOD]]",
        "LOOP": "[[LOOP]]",
    },
    environ={"HOME_DIR": "/home/amt"},
    schedule_name="NIGHTLY",
    job_name="REPORT",
    date=dt.date(2026, 12, 31),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[$SCHEDULE DATE]]", "2026-12-31"),
        ("[[$SCHEDULE DATE(+1d)]]", "2027-01-01"),
        ("[[$SCHEDULE DATE(-2d):%Y%m%d]]", "20261229"),
        ("[[$SCHEDULE NAME]]/[[$JOB NAME]]", "NIGHTLY/REPORT"),
        ("[[OUT]]", "/data/2026-12"),
        ("[[ENV:HOME_DIR]]", "/home/amt"),
        ("no references", "no references"),
    ],
)
def test_substitute(text: str, expected: str) -> None:
    assert props.substitute(text, CONTEXT) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[MISSING]]", "unknown property [[MISSING]]"),
        ("[[ENV:UNSET]]", "environment variable UNSET is not set"),
        ("[[LOOP]]", "property loop: LOOP -> LOOP"),
        ("[[$SCHEDULE TIME]]", "unknown built-in property"),
        ("[[bad name]]", "malformed property reference"),
    ],
)
def test_substitute_errors(text: str, message: str) -> None:
    with pytest.raises(DefinitionError, match=message.replace("[", "\\[").replace("]", "\\]")):
        props.substitute(text, CONTEXT)


def test_references() -> None:
    refs = props.references("a [[X]] b [[ENV:Y]] [[$SCHEDULE DATE(+1d):%d]]")
    assert [(r.kind, r.name, r.offset_days, r.format) for r in refs] == [
        ("property", "X", 0, None),
        ("env", "Y", 0, None),
        ("builtin", "$SCHEDULE DATE", 1, "%d"),
    ]
