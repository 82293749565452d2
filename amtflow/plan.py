"""Planning: a schedule and a date become a graph of resolved jobs. Pure: no network, no files.

The plan says which jobs run on the date (frequencies, calendars, ``on_request``, a ``--job``
selection), in which dependency waves, each with its AMT request fully resolved (every
``[[PROPERTY]]`` substituted), and which jobs do not run and why.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import graphlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from amtflow.errors import DefinitionError, UsageError
from amtflow.model import (
    WEEKDAYS,
    Calendar,
    Definitions,
    Dependency,
    Frequency,
    MasterJob,
    Schedule,
)
from amtflow.properties import PropertyContext, secret_values, substitute
from amtflow.task import AmtTask
from amtflow.timeofday import JobTimes, instant, job_times, schedule_date, zone


@dataclass(frozen=True, repr=False)
class AmtRequest:
    """A job's task with every property resolved: a Start without its task id.

    ``shown`` is the same task as every output must show it: values that came from the
    environment (``[[ENV:...]]``) written as ``********``. The real one goes only to the server.
    """

    task: AmtTask
    masked: AmtTask | None = field(default=None, compare=False)  # when secrets are in it
    secrets: tuple[str, ...] = field(default=(), compare=False)  # the real values masked
    kept: AmtTask | None = field(default=None, compare=False)  # with [[ENV:...]] unresolved

    def __repr__(self) -> str:
        shown = self.shown
        return f"AmtRequest({shown.type.value} {shown.name!r} {shown.parameters!r})"

    @property
    def shown(self) -> AmtTask:
        """The task with its secrets masked: what plans, logs and reports print."""
        return self.masked or self.task

    @property
    def recorded(self) -> AmtRequest:
        """The request as the journal keeps it: environment values as their ``[[ENV:NAME]]``
        references, never the values (``with_environment`` makes it whole again)."""
        return AmtRequest(self.kept) if self.kept else self

    def with_environment(self, environ: Mapping[str, str]) -> AmtRequest:
        """A recorded request made whole again: its ``[[ENV:...]]`` references resolved,
        masked and secret values as ``resolve_request`` gives them."""
        texts = self.task.texts()
        if not any("[[ENV:" in text for text in texts):
            return self
        ctx = PropertyContext({}, environ, "", "", dt.date.min)
        real = self.task.mapped(lambda text: substitute(text, ctx))
        masked_ctx = dataclasses.replace(ctx, masked=True)
        masked = self.task.mapped(lambda text: substitute(text, masked_ctx))
        return AmtRequest(real, masked, secret_values(texts, ctx), kept=self.task)

    @property
    def secret(self) -> bool:
        """Whether any value of the task came from the environment."""
        return self.masked is not None


@dataclass(frozen=True)
class PlannedJob:
    """A job that runs on the plan's date."""

    job: MasterJob
    request: AmtRequest
    wave: int
    depends_on: tuple[Dependency, ...]  # only dependencies on jobs that run in this plan
    assumed_met: tuple[str, ...] = ()  # dependencies outside the plan, treated as met
    times: JobTimes = JobTimes()  # start_time, latest_start, deadline as instants

    @property
    def name(self) -> str:
        return self.job.name


@dataclass(frozen=True)
class SkippedJob:
    """A job of the schedule that does not run on the plan's date, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class Plan:
    schedule: Schedule
    date: dt.date
    jobs: tuple[PlannedJob, ...]  # in a dependency order
    skipped: tuple[SkippedJob, ...] = ()
    reason: str = ""  # why nothing runs, when the schedule itself is off on the date
    selected: tuple[str, ...] = field(default=())
    start: dt.datetime | None = None  # the schedule's start_time on the date, if it has one

    @property
    def timezone(self) -> str:
        return self.schedule.timezone

    @property
    def waves(self) -> tuple[tuple[PlannedJob, ...], ...]:
        count = max((job.wave for job in self.jobs), default=-1) + 1
        waves: list[list[PlannedJob]] = [[] for _ in range(count)]
        for job in self.jobs:  # one pass: a chain of n jobs is n waves
            waves[job.wave].append(job)
        return tuple(map(tuple, waves))

    def job(self, name: str) -> PlannedJob | None:
        return self._by_name.get(name)

    @functools.cached_property
    def _by_name(self) -> dict[str, PlannedJob]:
        return {job.name: job for job in self.jobs}


def choose_schedule(definitions: Definitions, name: str | None) -> Schedule:
    """The schedule to plan: the one named, or the only one defined."""
    if name is not None:
        if name not in definitions.schedules:
            known = ", ".join(sorted(definitions.schedules)) or "none"
            raise UsageError(f"no schedule named '{name}' (defined: {known})")
        return definitions.schedules[name]
    if len(definitions.schedules) == 1:
        return next(iter(definitions.schedules.values()))
    if not definitions.schedules:
        raise UsageError("the definitions hold no schedule")
    known = ", ".join(sorted(definitions.schedules))
    raise UsageError(
        f"the definitions hold several schedules; choose one with --schedule ({known})"
    )


def plan_for(
    definitions: Definitions,
    date: dt.date,
    *,
    schedule: str | None = None,
    jobs: Collection[str] = (),
    properties: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Plan:
    """What a run of ``schedule`` (the only one defined, when None) would do on ``date`` (a
    relative date, such as today, is the day in the schedule's time zone): what ``amtflow run``
    carries out, ``amtflow plan`` shows and the Python API's ``amtflow.make_plan`` gives.

    ``jobs`` narrows the run to a selection; ``properties`` set or override ``[[NAME]]`` values;
    ``environ`` answers ``[[ENV:NAME]]`` (none by default: a plan depends on what it is given).
    Pure: no network, no files. Raises ``UsageError`` or ``DefinitionError``.
    """
    chosen = choose_schedule(definitions, schedule)
    return make_plan(
        definitions,
        chosen,
        schedule_date(date, zone(chosen.timezone)),
        jobs=jobs,
        properties=properties,
        environ=environ,
        requested=schedule is not None,
    )


def off_reason(
    frequency: Frequency, date: dt.date, calendars: Mapping[str, Calendar], *, requested: bool
) -> str:
    """Why ``frequency`` does not run on ``date``, or "" when it does."""
    if frequency.on_request and not requested:
        return "runs on request only"
    if date in frequency.exclude_dates:
        return f"{date} is an excluded date"
    calendar = calendars.get(frequency.exclude_calendar or "")
    if calendar is not None and date in calendar.dates:
        return f"{date} is in calendar '{calendar.name}'"
    if date in frequency.dates:
        return ""
    weekday = WEEKDAYS[date.weekday()]
    if frequency.days and weekday not in frequency.days:
        return f"does not run on {weekday}"
    if frequency.dates and not frequency.days:
        return f"{date} is not one of its dates"
    return ""


def make_plan(
    definitions: Definitions,
    schedule: Schedule,
    date: dt.date,
    *,
    jobs: Collection[str] = (),
    properties: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    requested: bool = False,
) -> Plan:
    """Resolve ``schedule`` for ``date``; ``jobs`` narrows it to a selection.

    ``requested`` says the schedule was asked for by name (it then runs even if ``on_request``).
    Raises ``UsageError`` for an unknown selected job and ``DefinitionError`` for properties that
    do not resolve (every one of them at once).
    """
    _check_selection(schedule, jobs)
    reason = off_reason(schedule.frequency, date, definitions.calendars, requested=requested)
    if reason:
        return Plan(schedule, date, (), reason=f"schedule {schedule.name}: {reason}")
    running, skipped = _select(definitions, schedule, date, jobs)
    context = PropertyContext(
        properties={**definitions.properties, **(properties or {})},
        environ=dict(environ or {}),
        schedule_name=schedule.name,
        job_name="",
        date=date,
    )
    try:
        requests = _resolve_all(running, context)
        planned = _order(running, requests, skipped, _Times(date, zone(schedule.timezone)))
        start = (
            instant(date, schedule.start_time, zone(schedule.timezone))
            if schedule.start_time
            else None
        )
    except OverflowError:  # date arithmetic past year 9999 or before year 1
        raise UsageError(
            f"schedule {schedule.name} for {date}: one of its times or [[$SCHEDULE DATE(...)]]"
            " falls outside the years 1 to 9999"
        ) from None
    return Plan(schedule, date, planned, tuple(skipped), selected=tuple(jobs), start=start)


@dataclass(frozen=True)
class _Times:
    """Turns a job's times of day into instants of the plan's date in the schedule's zone."""

    date: dt.date
    tz: dt.tzinfo

    def of(self, job: MasterJob) -> JobTimes:
        if job.start_time is None and job.latest_start is None and job.deadline is None:
            return _NO_TIMES  # most jobs: no instant to work out
        return job_times(self.date, self.tz, job.start_time, job.latest_start, job.deadline)


_NO_TIMES = JobTimes()


def _check_selection(schedule: Schedule, jobs: Collection[str]) -> None:
    unknown = [name for name in jobs if schedule.job(name) is None]
    if unknown:
        raise UsageError(f"schedule {schedule.name} has no job {', '.join(map(repr, unknown))}")


def _select(
    definitions: Definitions, schedule: Schedule, date: dt.date, jobs: Collection[str]
) -> tuple[list[MasterJob], list[SkippedJob]]:
    running: list[MasterJob] = []
    skipped: list[SkippedJob] = []
    for job in schedule.jobs:
        if jobs and job.name not in jobs:
            skipped.append(SkippedJob(job.name, "not selected"))
            continue
        reason = ""
        if job.frequency is not None:
            requested = job.name in jobs
            reason = off_reason(job.frequency, date, definitions.calendars, requested=requested)
        if reason:
            skipped.append(SkippedJob(job.name, reason))
        else:
            running.append(job)
    return running, skipped


def _resolve_all(running: Sequence[MasterJob], context: PropertyContext) -> dict[str, AmtRequest]:
    requests: dict[str, AmtRequest] = {}
    problems: list[str] = []
    for job in running:
        try:
            requests[job.name] = resolve_request(job, context)
        except DefinitionError as exc:
            where = f"{job.location}: " if job.location else ""
            problems.append(f"{where}job {job.name}: {exc}")
    if problems:
        raise DefinitionError("; ".join(problems))
    return requests


def resolve_request(job: MasterJob, context: PropertyContext) -> AmtRequest:
    """The job's task with its properties substituted for ``context``'s date.

    Resolved twice when it holds environment values: once as sent, once masked (``shown``).
    """
    texts = job.task.texts()
    if not any("[[" in text for text in texts):  # no reference: nothing to resolve or mask
        return AmtRequest(job.task)
    ctx = dataclasses.replace(context, job_name=job.name, masked=False)
    task = _resolved(job.task, ctx)
    masked = _resolved(job.task, dataclasses.replace(ctx, masked=True))
    if masked == task:
        return AmtRequest(task)
    secrets = secret_values(texts, ctx)
    kept = _resolved(job.task, dataclasses.replace(ctx, kept_env=True))
    return AmtRequest(task, masked, secrets, kept)


def _resolved(task: AmtTask, ctx: PropertyContext) -> AmtTask:
    return task.mapped(lambda text: substitute(text, ctx))


def _order(
    running: Sequence[MasterJob],
    requests: Mapping[str, AmtRequest],
    skipped: Sequence[SkippedJob],
    times: _Times,
) -> tuple[PlannedJob, ...]:
    names = {job.name for job in running}
    outside = {s.name: s.reason for s in skipped}
    graph = {job.name: [d.job for d in job.depends_on if d.job in names] for job in running}
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        cycle = " -> ".join(reversed(exc.args[1]))
        raise DefinitionError(f"dependency cycle: {cycle}") from None
    by_name = {job.name: job for job in running}
    waves: dict[str, int] = {}
    planned = []
    for name in order:
        job = by_name[name]
        waves[name] = 1 + max((waves[dep] for dep in graph[name]), default=-1)
        planned.append(
            PlannedJob(
                job=job,
                request=requests[name],
                wave=waves[name],
                depends_on=tuple(d for d in job.depends_on if d.job in names),
                assumed_met=tuple(
                    f"{d.job} ({outside.get(d.job, 'not in the schedule')})"
                    for d in job.depends_on
                    if d.job not in names
                ),
                times=times.of(job),
            )
        )
    position = {name: index for index, name in enumerate(order)}
    return tuple(sorted(planned, key=lambda p: (p.wave, position[p.name])))
