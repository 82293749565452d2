"""What a run was asked for and what it planned, as the journal keeps it: a run's own truth.

When a run begins, the journal records a ``RunSpec`` (definitions path, schedule, date, selection,
properties, log dir, simulator or real) and a ``RecordedPlan``: every planned job fully resolved
(its master job, AMT request, dependencies, retry, max run time), the agents those jobs use with
their URLs, and their batch users, whose passwords are references (env var or file) only, never a
value. ``resume``, ``rerun``, ``kill`` and ``abandon`` work from this record, so a ``git pull``
that changed or removed the definitions after the run began changes nothing for that run.

Both are frozen dataclasses, stored as JSON by a small codec (``codec``: ``to_data``/``from_data``)
that follows the dataclasses' type hints: a field added later reads back with its default from
older records, and a field an older amtflow does not know is ignored. Runs recorded before the
journal kept plans (schema 1) are rebuilt from their definitions file, as amtflow did then.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import graphlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from amtflow import definitions as defs
from amtflow import report
from amtflow.errors import StateError
from amtflow.model import Agent, BatchUser, Definitions, Notification, Schedule
from amtflow.orchestration.codec import encoder, field_names, from_data, to_data
from amtflow.packing import unpack
from amtflow.plan import Plan, PlannedJob, SkippedJob, make_plan
from amtflow.runs import RunRecord

# Jobs a json.dumps call encodes: a 10,000-job plan is recorded in 0.24-0.26 s CPU instead of
# 0.29-0.46 one job a call; 500 took 0.31-0.40 (more young objects for the collector to walk).
JOBS_PER_CHUNK = 50

__all__ = ["RecordedPlan", "RunSpec", "from_data", "recorded_plan", "spec_of", "to_data"]


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
        jobs = tuple(map(_recorded, plan.jobs))
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
        """``json.dumps(to_data(self), sort_keys=True)`` in pieces of ``JOBS_PER_CHUNK`` jobs: a
        100,000-job plan is never one tree of dicts (``packing.pack`` compresses the pieces),
        and ``json.dumps`` is called once a piece, not once a job (issue 16)."""
        job_data = encoder(PlannedJob)
        for index, name in enumerate(sorted(field_names(RecordedPlan) or ())):
            yield ("{" if index == 0 else ", ") + json.dumps(name) + ": "
            if name == "jobs":
                yield "["
                for start in range(0, len(self.jobs), JOBS_PER_CHUNK):
                    chunk = [job_data(job) for job in self.jobs[start : start + JOBS_PER_CHUNK]]
                    yield (", " if start else "") + json.dumps(chunk, sort_keys=True)[1:-1]
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


def _recorded(job: PlannedJob) -> PlannedJob:
    """The job as the journal keeps it (``AmtRequest.recorded``); itself when that is the same."""
    request = job.request.recorded
    return job if request is job.request else dataclasses.replace(job, request=request)


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
