"""Times of day of a schedule date, in a time zone: pure computations shared by plan and export.

A time is ``HH:MM`` or ``HH:MM:SS``, optionally ``+N `` days after the schedule date. It becomes an
instant with the daylight-saving rules of the definitions: a wall time that does not exist that day
(the clocks jump over it) means the first instant after the gap; one that happens twice (the clocks
go back) means the first of the two. The schedule date stays the schedule date however long a run
goes on past midnight. Zones are IANA names read with ``zoneinfo`` (the ``tzdata`` package supplies
them where the system has none); the default is UTC, never the machine's zone.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, available_timezones

DEFAULT_ZONE = "UTC"
_UTC = dt.timezone.utc
_TIME = re.compile(r"(?:\+([0-9]{1,2}) +)?([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?\Z")
TIME_PATTERN = r"^(\+[0-9]{1,2} +)?([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"  # the schema's


@dataclass(frozen=True, order=True)
class TimeOfDay:
    """A wall-clock time ``days`` after a schedule date: ``+1 01:00`` is 01:00 the day after."""

    days: int
    time: dt.time
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.text or (f"+{self.days} " if self.days else "") + self.time.isoformat()


def parse_time(text: str) -> TimeOfDay:
    """``"06:30"``, ``"06:30:15"`` or ``"+1 01:00"`` as a ``TimeOfDay``; ValueError otherwise."""
    match = _TIME.match(text.strip())
    if match is None:
        raise ValueError(f"'{text}' is not a time: write HH:MM, HH:MM:SS or +N HH:MM")
    days, hours, minutes, seconds = match.groups()
    when = dt.time(int(hours), int(minutes), int(seconds or 0))
    return TimeOfDay(int(days or 0), when, text.strip())


# Files in the zone database that name no place: "Factory" (a zone for machines not yet set up,
# whose abbreviation is "-00") and "posixrules" (a template for POSIX TZ strings).
_PSEUDO_ZONES = frozenset({"Factory", "posixrules"})


@functools.lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ValueError with a readable message if there is none."""
    shown = name if len(name) <= 60 else name[:57] + "..."
    if not name or name != name.strip() or name.lower() == "localtime":
        raise ValueError(f"'{shown}' is not an IANA time zone name (e.g. Europe/Amsterdam)")
    if name in _PSEUDO_ZONES:
        raise ValueError(
            f"'{name}' is not a geographic time zone (a placeholder of the zone database):"
            " use an IANA name such as Europe/Amsterdam or UTC"
        )
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        close = difflib.get_close_matches(name, _zone_names(), n=1) if len(name) <= 64 else []
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ValueError(
            f"unknown time zone '{shown}'{hint}: use an IANA name such as Europe/Amsterdam or UTC"
        ) from None


@functools.lru_cache(maxsize=1)
def _zone_names() -> list[str]:
    return sorted(available_timezones() - _PSEUDO_ZONES - {"localtime"})


def instant(date: dt.date, when: TimeOfDay, tz: dt.tzinfo) -> dt.datetime:
    """The aware instant of ``when`` for schedule date ``date`` in zone ``tz``.

    A wall time inside a spring-forward gap gives the first instant after the gap; a wall time
    the autumn fall-back repeats gives its first occurrence.
    """
    wall = dt.datetime.combine(date + dt.timedelta(days=when.days), when.time)
    first = wall.replace(tzinfo=tz, fold=0)
    if _exists(first):
        return first
    return _end_of_gap(wall, tz)


def skipped_on(when: dt.time, tz: dt.tzinfo, start: dt.date, days: int) -> list[dt.date]:
    """The days of ``days`` from ``start`` on which the wall time ``when`` does not exist in
    ``tz`` (the clocks jump over it)."""
    dates = (start + dt.timedelta(days=n) for n in range(days))
    return [d for d in dates if not _exists(dt.datetime.combine(d, when, tzinfo=tz))]


def _exists(local: dt.datetime) -> bool:
    return local.astimezone(_UTC).astimezone(local.tzinfo).replace(tzinfo=None, fold=0) == (
        local.replace(tzinfo=None, fold=0)
    )


def _end_of_gap(wall: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The instant the clocks jumped over ``wall``: between its two readings (PEP 495 folds)."""
    low = wall.replace(tzinfo=tz, fold=1).astimezone(_UTC)  # read with the offset after the jump
    high = wall.replace(tzinfo=tz, fold=0).astimezone(_UTC)  # read with the offset before it
    low, high = min(low, high), max(low, high)
    after = high.astimezone(tz).utcoffset()
    while high - low > dt.timedelta(seconds=1):  # transitions fall on whole seconds
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(tz).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high.astimezone(tz)


def today_in(tz: dt.tzinfo, now: dt.datetime | None = None) -> dt.date:
    """The date it is now in ``tz`` (what ``--date today`` means for a schedule in that zone)."""
    return (now or dt.datetime.now(_UTC)).astimezone(tz).date()


class RelativeDate(dt.date):
    """``--date today``/``yesterday``/``tomorrow`` before the schedule's zone is known.

    It is a date (today on this machine, plus ``offset`` days) so that code unaware of zones still
    works; ``schedule_date`` moves it to the schedule's zone.
    """

    offset: int

    def __new__(cls, offset: int, today: dt.date | None = None) -> RelativeDate:
        base = (today or dt.date.today()) + dt.timedelta(days=offset)
        made = super().__new__(cls, base.year, base.month, base.day)
        made.offset = offset
        return made


def schedule_date(date: dt.date, tz: dt.tzinfo, now: dt.datetime | None = None) -> dt.date:
    """``date`` itself, or for a relative date the day it names in ``tz``."""
    if isinstance(date, RelativeDate):
        return today_in(tz, now) + dt.timedelta(days=date.offset)
    return date


def shown(when: dt.datetime) -> str:
    """An instant as people read it in its zone: ``2026-03-29 03:00 CEST``."""
    text = when.strftime("%Y-%m-%d %H:%M:%S" if when.second else "%Y-%m-%d %H:%M")
    return f"{text} {when.tzname() or when.strftime('%z')}"


def shown_time(when: dt.datetime, date: dt.date) -> str:
    """An instant as a time of day, with the day when it is not the schedule date's."""
    text = when.strftime("%H:%M:%S" if when.second else "%H:%M")
    days = (when.date() - date).days
    return f"{text} (+{days}d)" if days > 0 else text


@dataclass(frozen=True)
class JobTimes:
    """A planned job's window as instants: not started before, not started after, due by."""

    not_before: dt.datetime | None = None
    latest_start: dt.datetime | None = None
    deadline: dt.datetime | None = None

    @property
    def any(self) -> bool:
        return any((self.not_before, self.latest_start, self.deadline))


def job_times(
    date: dt.date,
    tz: dt.tzinfo,
    start_time: TimeOfDay | None,
    latest_start: TimeOfDay | None,
    deadline: TimeOfDay | None,
) -> JobTimes:
    """The instants of a job's times on schedule date ``date``."""

    def at(when: TimeOfDay | None) -> dt.datetime | None:
        return None if when is None else instant(date, when, tz)

    return JobTimes(at(start_time), at(latest_start), at(deadline))


def format_duration(seconds: float | None) -> str:
    """How long something took, as every output shows it: ``0.4s``, ``59s``, ``2m05s``,
    ``1h02m03s``; empty when unknown."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
