"""Cross-checks of time zones and times of day: names IANA knows, one top-level zone per set of
files, and a job's window in order (``latest_start`` and ``deadline`` not before ``start_time``)."""

from __future__ import annotations

from amtflow.timeofday import TimeOfDay, parse_time, zone

from .diagnostics import Collector
from .entries import Entry, Index


def check_times(index: Index, collector: Collector) -> None:
    """Report every unknown zone, conflicting top-level zone and job window out of order."""
    _top_zones(index, collector)
    for schedule in index.sections["schedules"].values():
        _zone(schedule, collector)
        defaults = schedule.child("defaults")
        for job in schedule.items("jobs"):
            _window(job, defaults, collector)


def _top_zones(index: Index, collector: Collector) -> None:
    first: Entry | None = None
    for source in index.files:
        top = Entry(source, (), source.data)
        if "timezone" not in top.data or not _zone(top, collector):
            continue
        if first is None:
            first = top
        elif first.data["timezone"] != top.data["timezone"]:
            message = (
                f"timezone '{top.data['timezone']}' differs from '{first.data['timezone']}' "
                f"set at {first.at('timezone')}: set one top-level timezone, or one per schedule"
            )
            collector.error(top.at("timezone"), message, "timezone")


def _zone(entry: Entry, collector: Collector) -> bool:
    name = entry.data.get("timezone")
    if not isinstance(name, str):
        return False
    try:
        zone(name)
    except ValueError as exc:
        collector.error(entry.at("timezone"), str(exc), "timezone")
        return False
    return True


def _window(job: Entry, defaults: Entry, collector: Collector) -> None:
    start = _time(job, defaults, "start_time")
    if start is None:
        return
    for key, meaning in (("latest_start", "latest start"), ("deadline", "deadline")):
        when = _time(job, defaults, key)
        if when is not None and when < start:
            holder = job if key in job.data else defaults
            message = (
                f"job '{job.name}': {meaning} {when} is before its start time {start}"
                " (write +1 HH:MM for a time on the next day)"
            )
            collector.error(holder.at(key), message, "time-order")


def _time(job: Entry, defaults: Entry, key: str) -> TimeOfDay | None:
    text = job.data.get(key, defaults.data.get(key))
    try:
        return None if text is None else parse_time(str(text))
    except ValueError:
        return None  # the schema has said so
