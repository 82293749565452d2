"""Times of day as instants: the daylight-saving rules, +N days, parsing, --date today's zone."""

from __future__ import annotations

import datetime as dt

import pytest

from amtflow.timeofday import (
    RelativeDate,
    TimeOfDay,
    instant,
    parse_time,
    schedule_date,
    shown,
    zone,
)

UTC = dt.timezone.utc

# zone, schedule date, time -> the instant in UTC, and the local wall time it reads as
INSTANTS = [
    # an ordinary summer and winter day
    ("Europe/Amsterdam", "2026-06-01", "06:30", "2026-06-01T04:30:00", "06:30 CEST"),
    ("Europe/Amsterdam", "2026-01-15", "06:30", "2026-01-15T05:30:00", "06:30 CET"),
    # spring forward (02:00 -> 03:00): a time in the gap is the first instant after it
    ("Europe/Amsterdam", "2026-03-29", "02:00", "2026-03-29T01:00:00", "03:00 CEST"),
    ("Europe/Amsterdam", "2026-03-29", "02:30", "2026-03-29T01:00:00", "03:00 CEST"),
    ("Europe/Amsterdam", "2026-03-29", "02:59:59", "2026-03-29T01:00:00", "03:00 CEST"),
    ("Europe/Amsterdam", "2026-03-29", "03:00", "2026-03-29T01:00:00", "03:00 CEST"),
    ("Europe/Amsterdam", "2026-03-29", "01:59:59", "2026-03-29T00:59:59", "01:59:59 CET"),
    # fall back (03:00 -> 02:00): a time that happens twice is the first
    ("Europe/Amsterdam", "2026-10-25", "02:30", "2026-10-25T00:30:00", "02:30 CEST"),
    ("Europe/Amsterdam", "2026-10-25", "03:00", "2026-10-25T02:00:00", "03:00 CET"),
    ("America/New_York", "2026-03-08", "02:15", "2026-03-08T07:00:00", "03:00 EDT"),
    ("America/New_York", "2026-03-08", "01:59", "2026-03-08T06:59:00", "01:59 EST"),
    ("America/New_York", "2026-11-01", "01:30", "2026-11-01T05:30:00", "01:30 EDT"),
    ("America/New_York", "2026-11-01", "02:00", "2026-11-01T07:00:00", "02:00 EST"),
    # +N days: the schedule date stays, the instant moves (here onto the DST day)
    ("Europe/Amsterdam", "2026-03-28", "+1 02:30", "2026-03-29T01:00:00", "03:00 CEST"),
    ("Europe/Amsterdam", "2026-10-24", "+1 02:30", "2026-10-25T00:30:00", "02:30 CEST"),
    ("America/New_York", "2026-12-31", "+1 01:00", "2027-01-01T06:00:00", "01:00 EST"),
    ("UTC", "2026-03-29", "02:30", "2026-03-29T02:30:00", "02:30 UTC"),
    ("UTC", "2026-02-28", "+2 00:00", "2026-03-02T00:00:00", "00:00 UTC"),
]


@pytest.mark.parametrize(("name", "date", "text", "utc", "wall"), INSTANTS)
def test_instant_of_a_time_on_a_date(name: str, date: str, text: str, utc: str, wall: str) -> None:
    when = instant(dt.date.fromisoformat(date), parse_time(text), zone(name))
    assert when.astimezone(UTC).replace(tzinfo=None).isoformat() == utc
    assert shown(when).endswith(wall)


PARSED = [
    ("06:30", 0, dt.time(6, 30)),
    ("06:30:15", 0, dt.time(6, 30, 15)),
    ("00:00", 0, dt.time(0, 0)),
    ("23:59:59", 0, dt.time(23, 59, 59)),
    ("+1 01:00", 1, dt.time(1, 0)),
    ("+12 23:00", 12, dt.time(23, 0)),
]


@pytest.mark.parametrize(("text", "days", "time"), PARSED)
def test_parse_time(text: str, days: int, time: dt.time) -> None:
    parsed = parse_time(text)
    assert (parsed.days, parsed.time, str(parsed)) == (days, time, text)


@pytest.mark.parametrize(
    "text",
    ["6:30", "24:00", "06:60", "06:30:60", "+1", "+1 6:30", "-1 06:00", "06h30", "", "+123 01:00"],
)
def test_malformed_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a time"):
        parse_time(text)


def test_times_order_by_day_then_clock() -> None:
    assert parse_time("23:00") < parse_time("+1 01:00") < parse_time("+1 02:00")
    assert parse_time("06:30") == TimeOfDay(0, dt.time(6, 30))


@pytest.mark.parametrize("name", ["Europe/Amsterdan", "CEST", "", " UTC", "localtime", "../etc"])
def test_unknown_zones_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        zone(name)


def test_today_is_the_schedule_zone_s_day() -> None:
    # 23:30 UTC on the 24th is already the 25th in Amsterdam and still the 24th in New York
    now = dt.datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    assert schedule_date(RelativeDate(0), zone("Europe/Amsterdam"), now) == dt.date(2026, 11, 25)
    assert schedule_date(RelativeDate(0), zone("America/New_York"), now) == dt.date(2026, 11, 24)
    assert schedule_date(RelativeDate(-1), zone("UTC"), now) == dt.date(2026, 11, 23)
    assert schedule_date(dt.date(2026, 1, 2), zone("UTC"), now) == dt.date(2026, 1, 2)
