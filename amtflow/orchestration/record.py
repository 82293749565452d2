"""What a run was asked for and what it planned, as the journal keeps it: a run's own truth.

When a run begins, the journal records a ``RunSpec`` (definitions path, schedule, date, selection,
properties, log dir, simulator or real) and a ``RecordedPlan``: every planned job fully resolved
(its master job, AMT request, dependencies, retry, max run time), the agents those jobs use with
their URLs, and their batch users, whose passwords are references (env var or file) only, never a
value. ``resume``, ``rerun``, ``kill`` and ``abandon`` work from this record, so a ``git pull``
that changed or removed the definitions after the run began changes nothing for that run.

Both are frozen dataclasses, stored as JSON by a small generic codec (``to_data``/``from_data``)
that follows the dataclasses' type hints: a field added later reads back with its default from
older records, and a field an older amtflow does not know is ignored. Runs recorded before the
journal kept plans (schema 1) are rebuilt from their definitions file, as amtflow did then.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime as dt
import enum
import graphlib
import json
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from amtflow import definitions as defs
from amtflow import report
from amtflow.errors import StateError
from amtflow.model import Agent, BatchUser, Definitions, MasterJob, Notification, Schedule
from amtflow.packing import unpack
from amtflow.plan import AmtRequest, Plan, PlannedJob, SkippedJob, make_plan
from amtflow.runs import RunRecord

T = TypeVar("T")


@dataclass(frozen=True)
class RunSpec:
    """What a run was asked to do, resolved: enough to carry it on from any terminal."""

    definitions: str  # absolute path of the schedule file the run began from
    schedule: str  # the schedule's name
    date: dt.date
    log_dir: str  # absolute
    jobs: tuple[str, ...] = ()  # the --job selection; empty: the whole schedule
    properties: Mapping[str, str] = field(default_factory=dict)  # --property values
    requested: bool = False  # the schedule was named with --schedule (on_request schedules)
    max_parallel: int = 50
    simulate: bool = False
    scenario: str | None = None  # the embedded simulator's scenario file, with simulate
    simulator_url: str = ""  # where the embedded simulator listened, with simulate
    timezone: str = ""  # the schedule's time zone where it has one (not UTC): times shown in it

    def __post_init__(self) -> None:
        if not isinstance(self.max_parallel, int) or self.max_parallel < 1:
            # 0 would wait forever for a free slot (a journal edited by hand)
            raise ValueError(f"max_parallel {self.max_parallel!r} is not a number of jobs")

    @property
    def selection(self) -> tuple[str, ...]:
        """The selection as a set (order and repeats do not make another unit of work)."""
        return tuple(sorted(set(self.jobs)))


@dataclass(frozen=True)
class RecordedPlan:
    """A run's plan as it was when the run began: jobs, agents and batch users, no secret."""

    spec: RunSpec
    jobs: tuple[PlannedJob, ...]  # in a dependency order
    skipped: tuple[SkippedJob, ...] = ()
    agents: Mapping[str, Agent] = field(default_factory=dict)  # the agents the jobs use
    batch_users: Mapping[str, BatchUser] = field(default_factory=dict)  # theirs
    notify: tuple[str, ...] = ()  # the schedule's notifications
    notifications: Mapping[str, Notification] = field(default_factory=dict)  # URLs by reference

    @classmethod
    def of(cls, spec: RunSpec, plan: Plan, definitions: Definitions) -> RecordedPlan:
        """The record of ``plan``, with the agents and batch users its jobs need."""
        agents = {job.job.agent: definitions.agents[job.job.agent] for job in plan.jobs}
        users = {a.batch_user: definitions.batch_users[a.batch_user] for a in agents.values()}
        jobs = tuple(dataclasses.replace(job, request=job.request.recorded) for job in plan.jobs)
        names = {*plan.schedule.notify, *(name for job in plan.jobs for name in job.job.notify)}
        told = {
            n: definitions.notifications[n] for n in sorted(names) if n in definitions.notifications
        }
        agents_by_name = dict(sorted(agents.items()))
        return cls(spec, jobs, plan.skipped, agents_by_name, users, plan.schedule.notify, told)

    def plan(self, environ: Mapping[str, str] | None = None) -> Plan:
        """The plan again; with ``environ``, as the engine runs it (the values of its
        ``[[ENV:...]]`` references read again: the journal keeps only the references)."""
        jobs = self.jobs
        if environ is not None:
            jobs = tuple(
                dataclasses.replace(job, request=job.request.with_environment(environ))
                for job in jobs
            )
        schedule = Schedule(self.spec.schedule, tuple(job.job for job in jobs), notify=self.notify)
        return Plan(schedule, self.spec.date, jobs, self.skipped, selected=tuple(self.spec.jobs))

    def definitions(self) -> Definitions:
        """The agents and batch users of the run as definitions: where its servers are."""
        schedule = self.plan().schedule
        return Definitions(
            agents=dict(self.agents),
            batch_users=dict(self.batch_users),
            schedules={schedule.name: schedule},
            notifications=dict(self.notifications),
            files=(self.spec.definitions,),
        )

    def to_json(self) -> str:
        return "".join(self.json_chunks())

    def json_chunks(self) -> Iterator[str]:
        """``json.dumps(to_data(self), sort_keys=True)`` in pieces, one job at a time: a
        100,000-job plan is never one tree of dicts (``packing.pack`` compresses the pieces)."""
        for index, name in enumerate(sorted(_field_names(RecordedPlan) or ())):
            yield ("{" if index == 0 else ", ") + json.dumps(name) + ": "
            if name == "jobs":
                yield "["
                for number, job in enumerate(self.jobs):
                    yield (", " if number else "") + json.dumps(to_data(job), sort_keys=True)
                yield "]"
            else:
                yield json.dumps(to_data(getattr(self, name)), sort_keys=True)
        yield "}"

    @classmethod
    def from_json(cls, text: str | bytes, run_id: str) -> RecordedPlan:
        """The plan a journal row holds (as text, or packed); StateError if it cannot be read."""
        try:
            recorded = from_data(cls, json.loads(unpack(text)))
            recorded.check()
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            raise StateError(f"run {run_id}: its recorded plan cannot be read: {exc}") from exc
        return recorded

    def check(self) -> None:
        """ValueError unless the jobs make a plan the engine can run: unique names, dependencies
        on jobs of the plan and no cycle, every agent and batch user recorded (a journal edited
        by hand must be refused here, not crash the run half-way)."""
        names = [job.name for job in self.jobs]
        if len(set(names)) != len(names):
            raise ValueError("a job is recorded twice")
        graph = {job.name: {dep.job for dep in job.depends_on} for job in self.jobs}
        for job in self.jobs:
            if unknown := graph[job.name] - set(names):
                raise ValueError(
                    f"job {job.name} depends on {', '.join(sorted(unknown))}, not planned"
                )
            agent = self.agents.get(job.job.agent)
            if agent is None or agent.batch_user not in self.batch_users:
                raise ValueError(f"job {job.name}: its agent or batch user is not recorded")
        try:
            tuple(graphlib.TopologicalSorter(graph).static_order())
        except graphlib.CycleError as exc:
            raise ValueError(f"its jobs depend on each other in a cycle: {exc.args[1]}") from exc


def spec_of(run: RunRecord) -> RunSpec:
    """What ``run`` was asked for, from its journal row (either format of ``options``)."""
    spec = spec_or_damage(run)
    if isinstance(spec, str):
        raise StateError(f"run {run.run_id}: its recorded options cannot be read: {spec}")
    return spec


def spec_or_damage(run: RunRecord) -> RunSpec | str:
    """``spec_of``, or why the run's recorded options cannot be read (a journal edited by hand
    or cut short): the run-once rules and ``abandon`` must still be able to set such a run aside."""
    try:
        saved = json.loads(run.options or "{}")
        if "date" in saved:
            return from_data(RunSpec, saved)
        return RunSpec(  # recorded before the spec was typed
            definitions=run.definitions,
            schedule=run.schedule,
            date=dt.date.fromisoformat(run.date),
            log_dir=saved.get("log_dir", ".amtflow/logs"),
            jobs=tuple(saved.get("jobs", ())),
            properties=saved.get("properties", {}),
            requested=saved.get("schedule") is not None,
            max_parallel=saved.get("max_parallel", 50),
            simulate=bool(saved.get("simulate")),
            simulator_url=saved.get("simulator_url") or "",
        )
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return str(exc) or type(exc).__name__


def recorded_plan(run: RunRecord, environ: Mapping[str, str]) -> RecordedPlan:
    """The plan ``run`` carries out, from the journal (or its definitions file, for a run
    recorded before plans were kept)."""
    if run.plan:
        return RecordedPlan.from_json(run.plan, run.run_id)
    spec = spec_of(run)
    definitions = defs.load([spec.definitions], properties=spec.properties)
    if definitions.digest != run.digest:
        report.warning(f"the definitions changed since run {run.run_id} started")
    schedule = definitions.schedules.get(spec.schedule)
    if schedule is None:
        raise StateError(f"run {run.run_id}: schedule {spec.schedule} is no longer defined")
    plan = make_plan(
        definitions,
        schedule,
        spec.date,
        jobs=spec.jobs,
        properties=spec.properties,
        environ=environ,
        requested=spec.requested,
    )
    return RecordedPlan.of(spec, plan, definitions)


_AS_IS = frozenset((str, int, float, bool, type(None)))  # exact types: a str enum is not one


def to_data(value: Any) -> Any:
    """A dataclass tree as JSON-ready data (enums by value, dates as ISO text, sets sorted)."""
    if type(value) in _AS_IS:  # most leaves: answered first, a plan has ~50 of them a job
        return value
    names = _field_names(type(value))
    if names is not None:
        return {name: to_data(getattr(value, name)) for name in names}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (frozenset, set)):
        return sorted((to_data(item) for item in value), key=json.dumps)
    if isinstance(value, (list, tuple)):
        return [to_data(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): to_data(item) for key, item in value.items()}
    return value


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type (None for any other type), looked up once a type."""
    if cls not in _FIELD_NAMES:
        fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else None
        _FIELD_NAMES[cls] = tuple(f.name for f in fields) if fields is not None else None
    return _FIELD_NAMES[cls]


def from_data(cls: type[T], data: Mapping[str, Any]) -> T:
    """``cls`` built back from ``to_data``'s output, following its fields' type hints."""
    if cls in _OLDER_FORMS:
        data = _OLDER_FORMS[cls](data)
    fields = _fields(cls)
    values = {name: _decode(hint, data[name]) for name, hint in fields if name in data}
    return cls(**values)


_FIELDS: dict[type, tuple[tuple[str, Any], ...]] = {}
_FORM_FIELDS = ("application", "submit_user", "user", "station", "queue")


def _task_before_amt_task(data: Mapping[str, Any], kind: Any) -> dict[str, Any]:
    """A task as amtflow 0.x recorded it, spread over its job or request: ``job_name`` with
    ``task_values``, or ``script_name`` with ``script_parameters`` (pairs in a master job,
    ``NAME=value`` in a request)."""
    script = kind == "script"
    parameters = data.get("script_parameters" if script else "task_values") or []
    task = {key: data[key] for key in _FORM_FIELDS if key in data}
    return {
        **task,
        "type": kind,
        "name": data.get("script_name" if script else "job_name") or "",
        "parameters": ["=".join(p) if isinstance(p, list) else p for p in parameters],
    }


def _master_job_form(data: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(data.get("task"), str):
        return data
    return {**data, "task": _task_before_amt_task(data, data["task"])}


def _request_form(data: Mapping[str, Any]) -> Mapping[str, Any]:
    if "task_type" not in data:
        return data

    def task(older: Any) -> Any:
        return _task_before_amt_task(older, older.get("task_type")) if older else None

    return {
        **data,
        "task": task(data),
        "masked": task(data.get("masked")),
        "kept": task(data.get("kept")),
    }


# Older forms of a recorded class, brought to today's before decoding: plans recorded by an
# earlier amtflow must still run (resume, rerun, kill, abandon).
_OLDER_FORMS: dict[type, Callable[[Mapping[str, Any]], Mapping[str, Any]]] = {
    MasterJob: _master_job_form,
    AmtRequest: _request_form,
}


def _fields(cls: type) -> tuple[tuple[str, Any], ...]:
    """The init fields of a dataclass with their resolved type hints, once per class: resolving
    hints costs milliseconds, and a 2,000-job plan decodes tens of thousands of objects (3.1 s
    before, 0.5 s with this)."""
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls)
        fields = dataclasses.fields(cls)
        _FIELDS[cls] = tuple((f.name, hints[f.name]) for f in fields if f.init)
    return _FIELDS[cls]


def _decode(hint: Any, value: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return _decode(next(arg for arg in args if arg is not type(None)), value)
    if dataclasses.is_dataclass(hint):
        return from_data(hint, value)  # type: ignore[arg-type]
    if origin in (tuple, frozenset, set) and not isinstance(value, list):
        raise TypeError(f"expected a list, found {value!r}")
    if origin in (dict, collections.abc.Mapping) and not isinstance(value, dict):
        raise TypeError(f"expected an object, found {value!r}")
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in value)
        return tuple(_decode(arg, item) for arg, item in zip(args, value, strict=True))
    if origin in (frozenset, set):
        return frozenset(_decode(args[0], item) for item in value)
    if origin in (dict, collections.abc.Mapping):
        return {key: _decode(args[1], item) for key, item in value.items()}
    return _decode_scalar(hint, value)


def _decode_scalar(hint: Any, value: Any) -> Any:
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if hint is dt.datetime:
        when = dt.datetime.fromisoformat(value)
        if when.tzinfo is None:
            raise ValueError(f"{value!r} has no time zone")
        return when
    if hint is dt.date:
        return dt.date.fromisoformat(value)
    if hint is dt.time:
        return dt.time.fromisoformat(value)
    if hint is dt.timedelta:
        return dt.timedelta(seconds=value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (str, int, float, bool) and (
        not isinstance(value, hint) or (hint is int and isinstance(value, bool))
    ):
        raise TypeError(f"expected {hint.__name__}, found {value!r}")
    return value
