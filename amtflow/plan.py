"""Planning: a schedule and a date become a graph of resolved jobs. Pure: no network, no files.

The plan says which jobs run on the date (frequencies, calendars, ``on_request``, a ``--job``
selection), in which dependency waves, each with its AMT request fully resolved (every
``[[PROPERTY]]`` substituted), and which jobs do not run and why.
"""

from __future__ import annotations

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
from amtflow.properties import PropertyContext
from amtflow.request import AmtRequest, resolve_all
from amtflow.timeofday import JobTimes, instant, job_times, schedule_date, zone


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
    context = _context(definitions, schedule, date, properties, environ)
    try:
        requests = resolve_all(running, context)
        planned = _order(running, requests, skipped, _Times(date, zone(schedule.timezone)))
        start = _start(schedule, date)
    except OverflowError:  # date arithmetic past year 9999 or before year 1
        raise UsageError(
            f"schedule {schedule.name} for {date}: one of its times or [[$SCHEDULE DATE(...)]]"
            " falls outside the years 1 to 9999"
        ) from None
    return Plan(schedule, date, planned, tuple(skipped), selected=tuple(jobs), start=start)


def _context(
    definitions: Definitions,
    schedule: Schedule,
    date: dt.date,
    properties: Mapping[str, str] | None,
    environ: Mapping[str, str] | None,
) -> PropertyContext:
    """What the jobs' references resolve against: ``properties`` over the definitions' own."""
    return PropertyContext(
        properties={**definitions.properties, **(properties or {})},
        environ=dict(environ or {}),
        schedule_name=schedule.name,
        job_name="",
        date=date,
    )


def _start(schedule: Schedule, date: dt.date) -> dt.datetime | None:
    """The schedule's start_time on ``date``, when it has one."""
    if schedule.start_time is None:
        return None
    return instant(date, schedule.start_time, zone(schedule.timezone))


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
        waves[name] = 1 + max((waves[dep] for dep in graph[name]), default=-1)
        job = by_name[name]
        planned.append(_planned(job, requests[name], waves[name], names, outside, times))
    position = {name: index for index, name in enumerate(order)}
    return tuple(sorted(planned, key=lambda p: (p.wave, position[p.name])))


def _planned(
    job: MasterJob,
    request: AmtRequest,
    wave: int,
    names: Collection[str],
    outside: Mapping[str, str],
    times: _Times,
) -> PlannedJob:
    """``job`` in its wave; its dependencies on jobs outside the plan assumed met, and why."""
    return PlannedJob(
        job=job,
        request=request,
        wave=wave,
        depends_on=tuple(d for d in job.depends_on if d.job in names),
        assumed_met=tuple(
            f"{d.job} ({outside.get(d.job, 'not in the schedule')})"
            for d in job.depends_on
            if d.job not in names
        ),
        times=times.of(job),
    )
