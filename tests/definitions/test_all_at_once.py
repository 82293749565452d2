"""Issue 17: schema errors do not hide cross-check errors in the valid parts, and the messages
point at what the user wrote, in the words a user would search for."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from amtflow.definitions import validate, yamlload
from amtflow.definitions.yamlload import YamlProblem, read_document

from .conftest import Write, run_cli, schedule_head

HEAD = schedule_head()


def messages(path: Path) -> list[str]:
    return [f"{d.location.line}: {d.message}" for d in validate([path]).diagnostics]


def test_the_issue_example_reports_both_problems(write: Write) -> None:
    path = write(
        "n.yaml",
        HEAD
        + """\
      - name: FEECALC
        task: batch_job
        job_name: FEECALC
        max_run_time: 1 hour
        depends_on: [FEE]
""",
    )
    assert messages(path) == [
        "13: max_run_time '1 hour' in job 'FEECALC' is not a duration: write e.g. 90s, 5m, 2h or 1h30m",
        "14: job 'FEECALC' depends on unknown job 'FEE' (did you mean 'FEECALC'?)",
    ]


def test_a_refused_field_is_not_reported_again_as_missing_or_unknown(write: Write) -> None:
    """Wrong-typed values are refused once: no "has no agent", no "unknown job" for a job whose
    own fields are wrong, no "unknown property" for a property of the wrong type."""
    path = write(
        "n.yaml",
        HEAD.replace("application: DEMO", "application: '[[APP]]'")
        + """\
      - name: A
        task: batch_job
        agent: [amt]
        max_run_time: 60
      - name: B
        task: batch_job
        job_name: B
        depends_on: [A, {on: ok}, 5, C]
        routing: x
properties:
  APP: [DEMO]
""",
    )
    assert messages(path) == [
        "10: missing required key 'job_name' in job 'A' (task: batch_job)",
        "12: agent in job 'A' must be text, not a list",
        "13: max_run_time 60 in job 'A' has no unit: write 60s, 60m or 60h",
        "17: missing required key 'job' in job 'B'",
        "17: a dependency must be a job name or {job: NAME, on: ok|failed|finished}, not 5",
        "17: job 'B' depends on unknown job 'C'",
        "18: unknown key 'routing' in job 'B'",
        "20: APP must be text or a number or a boolean, not a list",
    ]


def test_an_entry_whose_name_is_refused_is_left_out_whole(write: Write) -> None:
    path = write(
        "n.yaml",
        HEAD
        + """\
      - task: batch_job
        job_name: X
        depends_on: [NOPE]
      - name: B
        task: batch_job
        job_name: B
        depends_on: [NOPE]
""",
    )
    assert messages(path) == [
        "10: missing required key 'name' in schedule 'NIGHTLY'",
        "16: job 'B' depends on unknown job 'NOPE'",
    ]


def test_a_file_that_does_not_parse_still_hides_cross_checks(write: Write) -> None:
    """An include that cannot be read defines nothing we know of: no flood of unknown agents."""
    write("common.yaml", "agents: [\n")
    path = write(
        "n.yaml",
        "include: [common.yaml]\n"
        + HEAD.split("schedules:\n")[1].join(["schedules:\n", ""])
        + "      - {name: A, task: batch_job, job_name: A, agent: nobody}\n",
    )
    found = [d.message for d in validate([path]).diagnostics]
    assert len(found) == 1 and found[0].startswith("YAML syntax")


def test_real_dates_are_checked_beside_schema_errors(write: Write) -> None:
    path = write(
        "n.yaml",
        "calendars:\n  - {name: h, dates: [2026-02-30]}\nversion: 2\n",
    )
    assert messages(path) == ["2: '2026-02-30' is not a real date", "3: version 2 is not one of 1"]


@pytest.mark.parametrize(
    ("field", "value"), [("retain_log_files", "many"), ("max_concurrent_jobs", "[1]")]
)
def test_key_names_are_shown_as_written(write: Write, field: str, value: str) -> None:
    text = HEAD.replace("batch_user: u}", f"batch_user: u, {field}: {value}}}")
    path = write("n.yaml", text + "      - {name: A, task: batch_job, job_name: A}\n")
    assert [m.split(" must be")[0] for m in messages(path)] == [f"5: {field} in agent 'amt'"]


def test_a_literal_secret_property_is_refused_like_a_task_value(write: Write) -> None:
    path = write(
        "n.yaml",
        "properties:\n  DB_PASSWORD: Welkom01!\n  API_TOKEN: '[[ENV:TOKEN]]'\n  PLAIN: x\n",
    )
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    assert "n.yaml:2:16: error: property 'DB_PASSWORD' holds a literal secret" in result.output
    assert "Welkom01!" not in result.output and "API_TOKEN" not in result.output


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("2026-11-31", "'2026-11-31' is not a real date (November 2026 has 30 days)"),
        ("2026-02-29", "'2026-02-29' is not a real date (February 2026 has 28 days)"),
        ("2026-13-01", "'2026-13-01' is not a real date (the month must be 01 to 12)"),
        ("31-11-2026", "'31-11-2026' is not a date: use YYYY-MM-DD"),
    ],
)
def test_date_option_says_when_a_date_is_not_real(write: Write, date: str, message: str) -> None:
    path = write("n.yaml", HEAD + "      - {name: A, task: batch_job, job_name: A}\n")
    result = run_cli("plan", str(path), "--date", date)
    assert result.exit_code == 2 and message in result.output


def test_a_folder_search_skips_the_project_file(write: Write, tmp_path: Path) -> None:
    write("defs/n.yaml", HEAD + "      - {name: A, task: batch_job, job_name: A}\n")
    write("defs/amtflow.yaml", "definitions: [.]\n")
    assert validate([tmp_path / "defs"]).files == (str(tmp_path / "defs" / "n.yaml"),)


def _nested(depth: int) -> str:
    return "a: " + "[" * depth + "]" * depth + "\n"


@pytest.mark.parametrize("loader", ["C", "pure Python"])
def test_the_depth_limit_speaks_first_with_either_parser(
    write: Write, monkeypatch: pytest.MonkeyPatch, loader: str
) -> None:
    if loader == "pure Python":
        monkeypatch.setattr(yamlload, "_Loader", yaml.SafeLoader)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML without libyaml")
    path = write("deep.yaml", _nested(50_000))
    with pytest.raises(YamlProblem) as info:
        read_document(path)
    assert (info.value.message, info.value.line, info.value.column) == (
        "nesting deeper than 64 levels",
        1,
        67,
    )


def test_a_parser_that_refuses_deep_nesting_itself_is_answered_in_amtflow_words(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libyaml 0.2.5+ (PyYAML 6.0.4's wheels) stops at 1000 flow levels with its own words,
    before amtflow sees an event; whatever parser does that, amtflow's limit is what is said."""
    parse = yaml.parse

    def refusing(stream: str, Loader: type) -> object:
        if Loader is not yaml.SafeLoader:
            mark = yaml.Mark("deep.yaml", 0, 0, 1002, None, None)
            raise yaml.scanner.ScannerError(
                "while increasing flow level",
                mark,
                "exceeded maximum nesting depth while increasing flow level",
                mark,
            )
        return parse(stream, Loader=Loader)

    monkeypatch.setattr(yamlload, "_Loader", object)
    monkeypatch.setattr(yaml, "parse", refusing)
    path = write("deep.yaml", _nested(2000))
    with pytest.raises(YamlProblem) as info:
        read_document(path)
    assert (info.value.message, info.value.column) == ("nesting deeper than 64 levels", 67)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (("properties", "ACCT"), True),
        (("schedules", 0, "jobs", 3, "task_values", 1), True),
        (("schedules", 0, "jobs", 3, "script_parameters", "BRANCH"), True),
        (("schedules", 2, "defaults", "queue"), True),
        (("batch_users", 0, "identifier"), True),
        (("schedules", 0, "jobs", 3, "name"), False),
        (("schedules", 0, "jobs", 3, "max_run_time"), False),
        (("schedules", 0, "jobs", 3, "retry", "attempts"), False),
        (("agents", 0, "retain_log_files"), False),
        (("version",), False),
    ],
)
def test_text_fields_are_read_from_the_schema(path: tuple[object, ...], text: bool) -> None:
    from amtflow.definitions.textfields import is_text

    assert is_text(path) is text
