"""Validated YAML becomes the frozen model: defaults applied, durations in seconds, dates parsed."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from amtflow import model
from amtflow.model import Location
from amtflow.task import AmtTask, TaskType
from amtflow.timeofday import DEFAULT_ZONE, TimeOfDay, parse_time

from .diagnostics import Collector
from .entries import Entry, Index, as_text

JOB_DEFAULTS = (
    "agent",
    "application",
    "submit_user",
    "user",
    "station",
    "queue",
    "max_run_time",
    "retry",
    "start_time",
    "latest_start",
    "deadline",
)
JOB_TIMES = ("start_time", "latest_start", "deadline")
_DURATION = re.compile(r"(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?\Z")


def seconds(text: str) -> float:
    """``1h30m`` -> 5400.0 (the schema has checked the form)."""
    match = _DURATION.match(text)
    hours, minutes, secs = (int(part or 0) for part in match.groups()) if match else (0, 0, 0)
    return float(hours * 3600 + minutes * 60 + secs)


class ModelBuilder:
    """Turns the entries of an index into model objects, reporting values the schema cannot judge."""

    def __init__(self, index: Index, collector: Collector) -> None:
        self.index = index
        self.collector = collector

    def definitions(self, properties: Mapping[str, str]) -> model.Definitions:
        """The whole model of the indexed files, with ``properties`` over the files' own."""
        sections = self.index.sections
        return model.Definitions(
            properties={
                **{name: text for name, (text, _) in self.index.properties.items()},
                **properties,
            },
            calendars={name: self.calendar(e) for name, e in sections["calendars"].items()},
            batch_users={name: self.batch_user(e) for name, e in sections["batch_users"].items()},
            agents={name: self.agent(e) for name, e in sections["agents"].items()},
            schedules={name: self.schedule(e) for name, e in sections["schedules"].items()},
            notifications={
                name: self.notification(e) for name, e in sections["notifications"].items()
            },
            files=tuple(source.display for source in self.index.files),
            digest=digest(self.index),
        )

    def calendar(self, entry: Entry) -> model.Calendar:
        return model.Calendar(entry.name, self.dates(entry, "dates"), entry.at())

    def batch_user(self, entry: Entry) -> model.BatchUser:
        password = model.SecretRef(**entry.data["password"])
        return model.BatchUser(entry.name, as_text(entry.data["identifier"]), password, entry.at())

    def notification(self, entry: Entry) -> model.Notification:
        return model.Notification(
            name=entry.name,
            urls=tuple(model.SecretRef(**ref) for ref in entry.data["urls"]),
            events=frozenset(model.NotifyEvent(event) for event in entry.data["events"]),
            location=entry.at(),
        )

    def agent(self, entry: Entry) -> model.Agent:
        data, tls = entry.data, entry.data.get("tls", {})
        ca_bundle = tls.get("ca_bundle")
        if ca_bundle is not None:
            ca_bundle = str((entry.source.path.parent / ca_bundle).resolve())
        return model.Agent(
            name=entry.name,
            batch_server_url=data["batch_server_url"],
            batch_user=data["batch_user"],
            type=data.get("type", "AsyscoAMT"),
            retain_log_files=data.get("retain_log_files", 30),
            communication=model.Communication(data.get("communication", "enabled")),
            allow_kill_job=data.get("allow_kill_job", False),
            max_concurrent_jobs=data.get("max_concurrent_jobs", 20),
            tls=model.Tls(tls.get("verify", True), ca_bundle),
            location=entry.at(),
        )

    def schedule(self, entry: Entry) -> model.Schedule:
        defaults = entry.data.get("defaults", {})
        jobs = tuple(self.job(job, defaults) for job in entry.items("jobs"))
        frequency = self.frequency(entry.child("frequency")) or model.Frequency()
        return model.Schedule(
            entry.name,
            jobs,
            frequency,
            start_time=self.time(entry, "start_time"),
            timezone=entry.data.get("timezone") or top_timezone(self.index, entry),
            location=entry.at(),
            notify=tuple(entry.data.get("notify", ())),
        )

    def job(self, entry: Entry, defaults: Mapping[str, Any]) -> model.MasterJob:
        data = {**{k: v for k, v in defaults.items() if k in JOB_DEFAULTS}, **entry.data}
        max_run_time = data.get("max_run_time")
        times = {key: self.time(entry, key, defaults) for key in JOB_TIMES}
        return model.MasterJob(
            name=entry.name,
            task=_task(data),
            agent=data.get("agent", ""),
            depends_on=tuple(
                self.dependency(entry, i, item) for i, item in enumerate(data.get("depends_on", ()))
            ),
            max_run_time=seconds(max_run_time) if max_run_time is not None else None,
            retry=self.retry(data.get("retry")),
            frequency=self.frequency(entry.child("frequency")),
            **times,
            location=entry.at(),
            notify=tuple(entry.data.get("notify", ())),
        )

    def time(
        self, entry: Entry, key: str, defaults: Mapping[str, Any] | None = None
    ) -> TimeOfDay | None:
        """The time ``key`` of ``entry`` (or of the schedule's ``defaults``), parsed."""
        text = entry.data.get(key, (defaults or {}).get(key))
        if text is None:
            return None
        try:
            return parse_time(str(text))
        except ValueError as exc:
            self.collector.error(
                entry.at(key) if key in entry.data else entry.at(), str(exc), "schema"
            )
            return None

    def dependency(self, job: Entry, index: int, item: str | dict[str, str]) -> model.Dependency:
        location = job.at("depends_on", index)
        if isinstance(item, str):
            return model.Dependency(item, model.Condition.OK, location)
        return model.Dependency(item["job"], model.Condition(item.get("on", "ok")), location)

    def retry(self, data: Mapping[str, Any] | None) -> model.Retry:
        if not data:
            return _NO_RETRY  # frozen: one for every job without a retry
        delay = seconds(data["delay"]) if "delay" in data else 0.0
        return model.Retry(data.get("attempts", 0), delay, frozenset(data.get("on_codes", ())))

    def frequency(self, entry: Entry) -> model.Frequency | None:
        if not entry.data:
            return None
        data = entry.data
        return model.Frequency(
            days=frozenset(data.get("days", ())),
            dates=self.dates(entry, "dates"),
            exclude_dates=self.dates(entry, "exclude_dates"),
            exclude_calendar=data.get("exclude_calendar"),
            on_request=data.get("on_request", False),
        )

    def dates(self, entry: Entry, key: str) -> frozenset[dt.date]:
        return frozenset(
            self.date(text, entry.at(key, i)) for i, text in enumerate(entry.data.get(key, ()))
        )

    def date(self, text: str, location: Location) -> dt.date:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            self.collector.error(location, f"'{text}' is not a real date", "schema")
            return dt.date.min


def top_timezone(index: Index, entry: Entry) -> str:
    """The top-level ``timezone`` that applies to ``entry``: its own file's, else any file's of
    the set (the cross-checks make sure they agree), else UTC."""
    own = entry.source.data.get("timezone")
    if isinstance(own, str):
        return own
    found = (source.data.get("timezone") for source in index.files)
    return next((zone for zone in found if isinstance(zone, str)), DEFAULT_ZONE)


def _optional_text(value: Any) -> str | None:
    """A text field that may be absent; a tagged ``!!int`` there still becomes text."""
    return None if value is None else as_text(value)


def digest(index: Index) -> str:
    """sha256 over the bytes of every file, in path order."""
    hasher = hashlib.sha256()
    for source in sorted(index.files, key=lambda s: str(s.path)):
        hasher.update(source.document.raw if source.document else b"")
    return hasher.hexdigest()


def _task(data: Mapping[str, Any]) -> AmtTask:
    """A job's task as written (a script's parameters as ``NAME=value``, in order)."""
    kind = TaskType(data["task"])
    if kind is TaskType.SCRIPT:
        name = data.get("script_name")
        parameters = tuple(
            f"{k}={as_text(v)}" for k, v in data.get("script_parameters", {}).items()
        )
    else:
        name = data.get("job_name")
        parameters = tuple(as_text(value) for value in data.get("task_values", ()))
    return AmtTask(
        type=kind,
        application=as_text(data.get("application", "")),
        name=_optional_text(name) or "",
        parameters=parameters,
        submit_user=as_text(data.get("submit_user", "BATCH")),
        user=_optional_text(data.get("user")),
        station=as_text(data.get("station", "OPCON")),
        queue=_optional_text(data.get("queue")),
    )


_NO_RETRY = model.Retry()
