from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from amtflow.errors import DefinitionError, UsageError
from amtflow.model import (
    Agent,
    BatchUser,
    Calendar,
    Definitions,
    Dependency,
    Frequency,
    MasterJob,
    Schedule,
    SecretRef,
)
from amtflow.plan import choose_schedule, make_plan, off_reason
from amtflow.task import AmtTask, TaskType

MONDAY = dt.date(2026, 11, 23)
CHRISTMAS = dt.date(2026, 12, 25)  # a Friday
HOLIDAYS = {"holidays": Calendar("holidays", frozenset({CHRISTMAS}))}


def job(name: str, *deps: str, **fields: object) -> MasterJob:
    task = AmtTask(TaskType.BATCH_JOB, "DEMO2", name)
    task_fields = {k: v for k, v in fields.items() if k in AmtTask.__dataclass_fields__}
    job_fields = {k: v for k, v in fields.items() if k not in task_fields}
    return MasterJob(
        name=name,
        task=dataclasses.replace(task, **task_fields),  # type: ignore[arg-type]
        agent="amt",
        depends_on=tuple(Dependency(d) for d in deps),
        **job_fields,  # type: ignore[arg-type]
    )


def defs(*jobs: MasterJob, frequency: Frequency = Frequency(), **props: str) -> Definitions:
    return Definitions(
        properties=props,
        calendars=HOLIDAYS,
        batch_users={"api": BatchUser("api", "OPCONAPI", SecretRef(env="PW"))},
        agents={"amt": Agent("amt", "http://127.0.0.1:1", "api")},
        schedules={"NIGHTLY": Schedule("NIGHTLY", tuple(jobs), frequency)},
    )


def plan(d: Definitions, date: dt.date = MONDAY, **kwargs: object):  # type: ignore[no-untyped-def]
    return make_plan(d, d.schedules["NIGHTLY"], date, **kwargs)  # type: ignore[arg-type]


WEEKDAYS = Frequency(
    days=frozenset({"mon", "tue", "wed", "thu", "fri"}), exclude_calendar="holidays"
)


@pytest.mark.parametrize(
    ("date", "reason"),
    [
        (MONDAY, ""),
        (dt.date(2026, 11, 28), "does not run on sat"),
        (CHRISTMAS, "2026-12-25 is in calendar 'holidays'"),
    ],
)
def test_weekdays_and_holiday_calendar(date: dt.date, reason: str) -> None:
    assert off_reason(WEEKDAYS, date, HOLIDAYS, requested=False) == reason


def test_a_week_of_a_weekday_schedule() -> None:
    week = [MONDAY + dt.timedelta(days=n) for n in range(7)]
    running = [
        d.isoformat() for d in week if not off_reason(WEEKDAYS, d, HOLIDAYS, requested=False)
    ]
    assert running == ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]


def test_extra_dates_exclusions_and_on_request() -> None:
    freq = Frequency(
        days=frozenset({"mon"}),
        dates=frozenset({dt.date(2026, 11, 28)}),
        exclude_dates=frozenset({MONDAY}),
    )
    assert off_reason(freq, dt.date(2026, 11, 28), {}, requested=False) == ""
    assert off_reason(freq, MONDAY, {}, requested=False) == "2026-11-23 is an excluded date"
    on_request = Frequency(on_request=True)
    assert off_reason(on_request, MONDAY, {}, requested=False) == "runs on request only"
    assert off_reason(on_request, MONDAY, {}, requested=True) == ""


def test_schedule_off_on_the_date_runs_nothing_and_says_why() -> None:
    result = plan(defs(job("A"), frequency=WEEKDAYS), CHRISTMAS)
    assert result.jobs == ()
    assert result.reason == "schedule NIGHTLY: 2026-12-25 is in calendar 'holidays'"


def test_waves_follow_dependencies() -> None:
    result = plan(defs(job("D", "B", "C"), job("B", "A"), job("C", "A"), job("A")))
    assert [[j.name for j in wave] for wave in result.waves] == [["A"], ["B", "C"], ["D"]]


def test_job_frequency_narrows_and_dependency_on_it_counts_as_met() -> None:
    weekly = Frequency(days=frozenset({"fri"}))
    result = plan(defs(job("WEEKLY", frequency=weekly), job("REPORT", "WEEKLY")))
    assert [j.name for j in result.jobs] == ["REPORT"]
    assert [(s.name, s.reason) for s in result.skipped] == [("WEEKLY", "does not run on mon")]
    assert result.jobs[0].assumed_met == ("WEEKLY (does not run on mon)",)


def test_selection_treats_other_dependencies_as_met() -> None:
    result = plan(defs(job("A"), job("B", "A")), jobs=["B"])
    assert [j.name for j in result.jobs] == ["B"]
    assert result.jobs[0].assumed_met == ("A (not selected)",)


def test_unknown_selected_job_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="has no job 'NOPE'"):
        plan(defs(job("A")), jobs=["NOPE"])


def test_properties_are_substituted_in_every_field() -> None:
    d = defs(
        job(
            "REPORT",
            application="[[APP]]",
            parameters=(
                "PERIOD=[[$SCHEDULE DATE:%Y%m%d]]",
                "NEXT=[[$SCHEDULE DATE(+1d)]]",
                "JOB=[[$JOB NAME]]/[[$SCHEDULE NAME]]",
            ),
        ),
        APP="DEMO2",
    )
    request = plan(d, properties={"APP": "PROD"}).jobs[0].request
    assert request.task.application == "PROD"
    assert request.task.parameters == ("PERIOD=20261123", "NEXT=2026-11-24", "JOB=REPORT/NIGHTLY")


def test_script_parameters_and_env_properties() -> None:
    script = MasterJob(
        name="S",
        task=AmtTask(
            TaskType.SCRIPT, "DEMO2", r"F:\Amt\[[ENV:SCRIPTS]]\run.ps1", ("INPUT=daily.csv",)
        ),
        agent="amt",
    )
    request = plan(defs(script), environ={"SCRIPTS": "Scripts"}).jobs[0].request
    assert request.task.name == r"F:\Amt\Scripts\run.ps1"
    assert request.task.parameters == ("INPUT=daily.csv",)


def test_unresolvable_property_is_a_definition_error_naming_the_job() -> None:
    with pytest.raises(DefinitionError, match="job A"):
        plan(defs(job("A", application="[[MISSING]]")))


def test_choose_schedule() -> None:
    d = defs(job("A"))
    assert choose_schedule(d, None).name == "NIGHTLY"
    with pytest.raises(UsageError, match="no schedule named 'X'"):
        choose_schedule(d, "X")
    two = Definitions(schedules={"A": Schedule("A", ()), "B": Schedule("B", ())})
    with pytest.raises(UsageError, match="several schedules"):
        choose_schedule(two, None)
