"""``amtflow plan`` and ``validate`` with time zones and times of day, through the CLI."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from click.testing import CliRunner, Result

from amtflow.cli import cli

HEAD = """\
version: 1
batch_users:
  - {name: api, identifier: OPCONAPI, password: {env: AMT_API_PASSWORD}}
agents:
  - {name: amt, batch_server_url: "http://127.0.0.1:42000", batch_user: api}
"""


def _write(tmp_path: Path, body: str, name: str = "nightly.yaml") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + textwrap.dedent(body))
    return path


def _cli(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def _plan(path: Path, date: str) -> dict[str, object]:
    result = _cli("plan", path, "--date", date, "--format", "json")
    assert result.exit_code == 0, result.output
    plan: dict[str, object] = json.loads(result.output)
    return plan


SCHEDULE = """\
timezone: {top}
schedules:
  - name: NIGHTLY
    start_time: "02:30"
    {own}
    defaults: {{agent: amt, application: DEMO2, deadline: "+1 07:00"}}
    jobs:
      - {{name: REPORTS, task: batch_job, job_name: R, start_time: "06:30", latest_start: "08:00", deadline: "07:30"}}
      - {{name: CLOSEDAY, task: batch_job, job_name: C, start_time: "+1 02:30", depends_on: [REPORTS]}}
"""


def _times(plan: dict[str, object]) -> dict[str, tuple[object, object, object]]:
    return {
        job["name"]: (job["earliest_start"], job["latest_start"], job["deadline"])  # type: ignore[index]
        for job in plan["jobs"]  # type: ignore[attr-defined]
    }


def test_plan_shows_absolute_times_on_a_spring_forward_day(tmp_path: Path) -> None:
    path = _write(tmp_path, SCHEDULE.format(top="Europe/Amsterdam", own=""))
    plan = _plan(path, "2026-03-28")
    assert plan["timezone"] == "Europe/Amsterdam"
    assert plan["start"] == "2026-03-28T02:30:00+01:00"
    assert _times(plan) == {
        "REPORTS": (
            "2026-03-28T06:30:00+01:00",
            "2026-03-28T08:00:00+01:00",
            "2026-03-28T07:30:00+01:00",
        ),
        # +1 02:30 falls in the gap of the 29th: the first instant after it; the deadline comes
        # from the defaults
        "CLOSEDAY": ("2026-03-29T03:00:00+02:00", None, "2026-03-29T07:00:00+02:00"),
    }
    assert _plan(path, "2026-03-29")["start"] == "2026-03-29T03:00:00+02:00"


def test_a_schedule_s_own_zone_wins_and_fall_back_takes_the_first(tmp_path: Path) -> None:
    path = _write(
        tmp_path, SCHEDULE.format(top="Europe/Amsterdam", own="timezone: America/New_York")
    )
    plan = _plan(path, "2026-10-31")
    assert plan["timezone"] == "America/New_York"
    # 01:30 on 2026-11-01 happens twice in New York: the first (EDT) is meant
    closeday = _times(plan)["CLOSEDAY"]
    assert closeday[0] == "2026-11-01T02:30:00-05:00"
    path = _write(
        tmp_path,
        SCHEDULE.format(top="America/New_York", own="").replace('"+1 02:30"', '"+1 01:30"'),
    )
    assert _times(_plan(path, "2026-10-31"))["CLOSEDAY"][0] == "2026-11-01T01:30:00-04:00"


def test_default_zone_is_utc_not_the_machine_s(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    path = _write(tmp_path, SCHEDULE.format(top="UTC", own="").replace("timezone: UTC\n", ""))
    plan = _plan(path, "2026-03-29")
    assert plan["timezone"] == "UTC"
    assert _times(plan)["REPORTS"][0] == "2026-03-29T06:30:00+00:00"


def test_plan_text_shows_the_window(tmp_path: Path) -> None:
    path = _write(tmp_path, SCHEDULE.format(top="Europe/Amsterdam", own=""))
    result = _cli("plan", path, "--date", "2026-03-28")
    assert result.exit_code == 0, result.output
    assert "(Europe/Amsterdam)" in result.output
    assert "starts 2026-03-28 02:30 CET" in result.output
    assert (
        "earliest start 2026-03-28 06:30 CET, latest start 2026-03-28 08:00 CET, "
        "deadline 2026-03-28 07:30 CET"
    ) in result.output
    assert "earliest start 2026-03-29 03:00 CEST" in result.output


def test_time_errors_have_line_and_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """\
        timezone: Mars/Olympus
        schedules:
          - name: NIGHTLY
            timezone: Europe/Amsterdam
            defaults: {agent: amt, application: DEMO2, start_time: "06:00"}
            jobs:
              - {name: A, task: batch_job, job_name: A, latest_start: "05:59"}
              - {name: C, task: batch_job, job_name: C, start_time: "+1 00:00", deadline: "23:00"}
        """,
    )
    result = _cli("validate", path)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if ": error: " in line]
    where = {":".join(line.split(":")[1:3]): line.split("error: ")[1] for line in lines}
    assert where["6:11"].startswith("unknown time zone 'Mars/Olympus'")
    assert where["12:63"].startswith("job 'A': latest start 05:59 is before its start time 06:00")
    assert where["13:83"].startswith("job 'C': deadline 23:00 is before its start time +1 00:00")
    assert len(lines) == 3
    path.write_text(path.read_text().replace('"05:59"', '"5:59"'))
    result = _cli("validate", path)
    assert f"{path}:12:63: error: latest_start '5:59' in job 'A' is not a time" in result.output


def test_included_files_must_agree_on_the_top_level_zone(tmp_path: Path) -> None:
    (tmp_path / "common.yaml").write_text("version: 1\ntimezone: America/New_York\n")
    path = _write(
        tmp_path,
        SCHEDULE.format(top="Europe/Amsterdam", own="").replace(
            "timezone:", "include: [common.yaml]\ntimezone:", 1
        ),
    )
    result = _cli("validate", path)
    assert result.exit_code == 2
    assert "timezone 'America/New_York' differs from 'Europe/Amsterdam'" in result.output or (
        "timezone 'Europe/Amsterdam' differs from 'America/New_York'" in result.output
    )


def test_an_included_file_s_zone_applies_to_the_schedules(tmp_path: Path) -> None:
    (tmp_path / "common.yaml").write_text("version: 1\ntimezone: America/New_York\n")
    body = SCHEDULE.format(top="X", own="").replace("timezone: X\n", "include: [common.yaml]\n")
    plan = _plan(_write(tmp_path, body), "2026-06-01")
    assert plan["timezone"] == "America/New_York"
    assert plan["start"] == "2026-06-01T02:30:00-04:00"


def test_date_today_is_today_in_the_schedule_s_zone(tmp_path: Path) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    # UTC+14 and UTC-11: for most of each day their dates differ
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        path = _write(tmp_path, SCHEDULE.format(top=zone, own=""))
        for word, offset in (("today", 0), ("yesterday", -1)):
            # read the zone's date before and after: the zone's midnight may fall in between
            before = dt.datetime.now(ZoneInfo(zone)).date()
            result = _cli("plan", path, "--date", word, "--format", "json")
            after = dt.datetime.now(ZoneInfo(zone)).date()
            expected = {(day + dt.timedelta(days=offset)).isoformat() for day in (before, after)}
            assert json.loads(result.output)["date"] in expected


def test_zones_work_without_the_system_s_zone_data(tmp_path: Path) -> None:
    """The tzdata package supplies the zones where the machine has none (containers, Windows)."""
    import os
    import subprocess
    import sys

    path = _write(tmp_path, SCHEDULE.format(top="Europe/Amsterdam", own=""))
    env = {**os.environ, "PYTHONTZPATH": str(tmp_path / "no-zoneinfo-here")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "amtflow",
            "plan",
            str(path),
            "--date",
            "2026-03-29",
            "--format",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["start"] == "2026-03-29T03:00:00+02:00"
