"""The words amtflow shows for states, completion codes, counts and times: one place, so the
live view, the summary, ``status``, job logs, notifications, JSON and JUnit say the same thing.

- A state is written as its stored value with spaces: ``ok``, ``failed``, ``killed``,
  ``not run``, ``skipped``, ``pending``, ``starting``, ``running``; a run's ``interrupted`` and
  ``abandoned`` likewise. JSON keeps the stored values (``not_run``): machine values, listed in
  docs/operations.md; every human output uses ``state_word``.
- A completion code is written as its name with the number beside it: ``DONE (4)``,
  ``ERROR (11)``, ``UNKNOWN_77 (77)`` (``code_text``).
- A time shown to people is local time (``TZ``) with its zone, ``2026-03-01 03:00:30 CET``
  (``clock``), or the schedule's time zone where it has one (``timezone:`` other than UTC,
  ``shown_zone``); JSON carries ISO-8601 with the offset, as the journal records it.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping

from amtflow.batch import completion_code
from amtflow.runs import RunRecord
from amtflow.timeofday import zone

SIMULATED = "simulated"  # the word that marks a run made on the embedded simulator


def state_word(state: enum.Enum | str) -> str:
    """``not_run`` -> ``not run``: a job or run state (enum or stored value) as people read it."""
    value = state.value if isinstance(state, enum.Enum) else state
    return str(value).replace("_", " ")


def code_text(code: int | None) -> str:
    """``ERROR (11)``: a completion code's name with its number; empty when there is none."""
    return "" if code is None else f"{completion_code(code).name} ({code})"


def counts_text(counts: Mapping[str, int]) -> str:
    """``2 ok, 1 not run``: jobs counted by stored state value, in a stable order."""
    return ", ".join(f"{n} {state_word(state)}" for state, n in sorted(counts.items()) if n)


def attempts_text(attempts: int) -> str:
    return f"{attempts} attempt{'' if attempts == 1 else 's'}"


def shown_zone(run: RunRecord) -> dt.tzinfo | None:
    """The zone a run's times are shown in: its schedule's where it has one, else local (None).
    A zone the machine no longer knows falls back to local time rather than failing a view."""
    if not run.timezone:
        return None
    try:
        return zone(run.timezone)
    except ValueError:
        return None


def local(when: dt.datetime, tz: dt.tzinfo | None = None) -> dt.datetime:
    """``when`` in ``tz``, or in this machine's zone (``TZ``); a naive time is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(tz)


def clock(
    iso: str | None, *, day: str = "", full: bool = False, tz: dt.tzinfo | None = None
) -> str:
    """A recorded ISO time as people read it: ``03:00:30``, or ``2026-03-01 03:00:30 CET`` when
    not on ``day`` (a local ISO date) or when ``full``; empty when there is none."""
    if not iso:
        return ""
    when = local(dt.datetime.fromisoformat(iso), tz)
    if full or when.date().isoformat() != day:
        return f"{when:%Y-%m-%d %H:%M:%S} {zone_name(when)}"
    return f"{when:%H:%M:%S}"


def zone_name(when: dt.datetime) -> str:
    """``CET``, ``UTC``; the offset (``+0530``) when the zone has no abbreviation."""
    name = when.tzname() or ""
    return name if name and name[0] not in "+-" else when.strftime("%z")


def local_day(iso: str | None, tz: dt.tzinfo | None = None) -> str:
    """The local ISO date of a recorded time (what ``clock``'s ``day`` compares with)."""
    return local(dt.datetime.fromisoformat(iso), tz).date().isoformat() if iso else ""


def seconds_between(start: str | None, end: str | None) -> float | None:
    """Seconds from one recorded time to another, to the millisecond; None if either is missing."""
    if not start or not end:
        return None
    delta = dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)
    return round(max(delta.total_seconds(), 0.0), 3)


def joined(parts: Iterable[str]) -> str:
    return ", ".join(part for part in parts if part)
