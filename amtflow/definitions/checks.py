"""Cross-checks the schema cannot express: names resolve, no cycles, no literal secrets,
every ``[[NAME]]`` known; and warnings for legal but risky settings."""

from __future__ import annotations

import datetime as dt
import difflib
import graphlib
import ipaddress
import re
import urllib.parse
from collections.abc import Iterator, Set
from typing import Any

from amtflow import properties as props
from amtflow.errors import DefinitionError

from .diagnostics import Collector
from .entries import SECTIONS, Entry, Index, as_text, unique
from .names import lookalike_note, name_problem, shown
from .prune import INVALID, listed, mapped
from .times import check_times
from .yamlmarks import Path_

_SECRET_NAME = re.compile(r"pass(word|wd)?|pwd|secret|token|api[_-]?key|credential", re.IGNORECASE)
# a value drawing on the environment or on another property (checked itself) is no literal
_REFERENCED = re.compile(r"\[\[(?:ENV:)?[A-Za-z_]")
_ROUTING = {"submit_user": "BATCH", "station": "OPCON"}


def did_you_mean(word: str, choices: Set[str] | list[str]) -> str:
    """`` (did you mean 'x'?)`` for a near miss among ``choices``, else ``""``."""
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean '{close[0]}'?{lookalike_note(word, close[0])})" if close else ""


def cross_check(index: Index, collector: Collector, extra_properties: Set[str]) -> None:
    """Report every cross-reference problem and risky setting of the indexed files."""
    checker = _Checker(index, collector)
    checker.name_rules()
    checker.agents()
    for schedule in index.sections["schedules"].values():
        checker.schedule(schedule)
    checker.property_references(set(index.properties) | set(extra_properties))
    check_times(index, collector)
    checker.property_secrets()
    checker.dates()


class _Checker:
    def __init__(self, index: Index, collector: Collector) -> None:
        self.index, self.collector = index, collector
        self.names = {section: set(named) for section, named in index.sections.items()}

    def reference(self, entry: Entry, key: str, section: str, kind: str) -> None:
        name = entry.data.get(key)
        if isinstance(name, str) and name not in self.names[section]:
            hint = did_you_mean(name, self.names[section])
            self.collector.error(
                entry.at(key), f"unknown {kind} '{name}'{hint}", "unknown-reference"
            )

    def name_rules(self) -> None:
        for section, kind in SECTIONS.items():
            for entry in self.index.sections[section].values():
                self.name(entry, kind)
        for schedule in self.index.sections["schedules"].values():
            for job in schedule.items("jobs"):
                self.name(job, "job")

    def name(self, entry: Entry, kind: str) -> None:
        problem = name_problem(entry.name)
        if problem:
            self.collector.error(
                entry.at("name"), f"{kind} name {shown(entry.name)} {problem}", "name"
            )

    def agents(self) -> None:
        for agent in self.index.sections["agents"].values():
            self.reference(agent, "batch_user", "batch_users", "batch user")
            problem = url_problem(agent.data.get("batch_server_url"))
            if problem:
                message = f"batch_server_url of agent '{agent.name}' {problem}"
                self.collector.error(agent.at("batch_server_url"), message, "url")
            if agent.child("tls").data.get("verify") is False:
                message = f"TLS verification is off for agent '{agent.name}': anyone on the path can read its traffic"
                self.collector.warning(agent.at("tls", "verify"), message, "tls-verify")

    def notify(self, entry: Entry) -> None:
        known = self.names["notifications"]
        for index, name in enumerate(entry.data.get("notify", ())):
            if name not in known:
                message = f"unknown notification '{name}'{did_you_mean(name, known)}"
                self.collector.error(entry.at("notify", index), message, "unknown-reference")

    def schedule(self, schedule: Entry) -> None:
        defaults = schedule.child("defaults")
        self.notify(schedule)
        self.reference(schedule.child("frequency"), "exclude_calendar", "calendars", "calendar")
        self.reference(defaults, "agent", "agents", "agent")
        self.routing(defaults)
        jobs = unique(schedule.items("jobs"), "job", self.collector)
        names = set(jobs)
        for job in schedule.items("jobs"):
            self.job(job, defaults, names)
        self.cycles(schedule, jobs)

    def job(self, job: Entry, defaults: Entry, job_names: set[str]) -> None:
        self.reference(job, "agent", "agents", "agent")
        self.notify(job)
        self.reference(job.child("frequency"), "exclude_calendar", "calendars", "calendar")
        self.routing(job)
        for key in ("agent", "application"):
            if key not in job.data and key not in defaults.data:
                message = f"job '{job.name}' has no {key}: set it on the job or in the schedule's defaults"
                self.collector.error(job.at(), message, "missing-field")
        for index, name in _dependencies(job):
            if name not in job_names:
                message = f"job '{job.name}' depends on unknown job '{name}'{did_you_mean(name, job_names)}"
                self.collector.error(job.at("depends_on", index), message, "unknown-reference")
        self.secrets(job)

    def routing(self, entry: Entry) -> None:
        for key, default in _ROUTING.items():
            value = entry.data.get(key)
            if isinstance(value, str) and value != default:
                message = (
                    f"{key} is '{value}', not the default '{default}': the server routes on it"
                )
                self.collector.warning(entry.at(key), message, "routing")

    def secrets(self, job: Entry) -> None:
        for index, value in enumerate(listed(job.data.get("task_values"))):
            name, sep, literal = value.partition("=") if isinstance(value, str) else ("", "", "")
            if sep:
                self.secret(job, ("task_values", index), "task value", name, literal)
        for name, value in mapped(job.data.get("script_parameters")).items():
            if value is not INVALID:
                self.secret(job, ("script_parameters", name), "script parameter", name, value)

    def secret(self, owner: Entry, path: Path_, kind: str, name: str, value: Any) -> None:
        text = as_text(value)
        if _SECRET_NAME.search(name) and text and not _REFERENCED.search(text):
            of = f" of job '{owner.name}'" if owner.path else ""
            message = f"{kind} '{name}'{of} holds a literal secret: write [[ENV:NAME]] instead"
            self.collector.error(owner.at(*path), message, "literal-secret")

    def property_secrets(self) -> None:
        """A secret-looking property is refused as in a task value: it reaches AMT the same way."""
        for source in self.index.files:
            top = Entry(source, (), source.data)
            for name, value in mapped(top.data.get("properties")).items():
                if value is not INVALID:
                    self.secret(top, ("properties", name), "property", name, value)

    def dates(self) -> None:
        """Dates of the right form that are not real dates (2026-02-30)."""
        for source in self.index.files:
            for path, text in _dates(source.data):
                try:
                    dt.date.fromisoformat(text)
                except ValueError:
                    location = source.location(path)
                    self.collector.error(location, f"'{text}' is not a real date", "schema")

    def cycles(self, schedule: Entry, jobs: dict[str, Entry]) -> None:
        graph = {name: [dep for _, dep in _dependencies(job)] for name, job in jobs.items()}
        try:
            graphlib.TopologicalSorter(graph).prepare()
        except graphlib.CycleError as exc:
            cycle = list(reversed(exc.args[1]))
            message = f"dependency cycle in schedule '{schedule.name}': {' -> '.join(cycle)}"
            self.collector.error(jobs[cycle[0]].at("depends_on"), message, "dependency-cycle")

    def property_references(self, known: set[str]) -> None:
        values = {name: text for name, (text, _) in self.index.properties.items()}
        lengths: dict[str, int] = {}
        passwords = self.password_variables()
        for source in self.index.files:
            for path, text in _strings(source.data, ()):
                node = Entry(source, path, {})
                self.property_reference(node, text, known, passwords)
                if props.expanded_length(text, values, lengths) > props.MAX_VALUE_CHARS:
                    self.collector.error(node.at(), props.too_long(()), "property-too-long")

    def password_variables(self) -> dict[str, str]:
        """The environment variables that hold a batch user's password, and whose they are."""
        found: dict[str, str] = {}
        for user in self.index.sections["batch_users"].values():
            password = user.data.get("password")
            if isinstance(password, dict) and isinstance(password.get("env"), str):
                found[password["env"]] = user.name
        return found

    def property_reference(
        self, node: Entry, text: str, known: set[str], passwords: dict[str, str]
    ) -> None:
        try:
            refs = props.references(text)
        except DefinitionError as exc:
            self.collector.error(node.at(), str(exc), "unknown-property")
            return
        for ref in refs:
            if ref.kind == "property" and ref.name not in known:
                message = f"unknown property {ref.text}{did_you_mean(ref.name, known)}"
                self.collector.error(node.at(), message, "unknown-property")
            if ref.kind == "env" and ref.name in passwords:
                message = (
                    f"{ref.text} is the password of batch user '{passwords[ref.name]}': it must "
                    "not be handed to a job (give the job a secret of its own)"
                )
                self.collector.error(node.at(), message, "password-reference")


_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)\Z")


def url_problem(url: object) -> str:
    """What is wrong with a Batch Server URL's host or port, or "" (the schema checks its form)."""
    if not isinstance(url, str):
        return ""
    try:
        parts = urllib.parse.urlsplit(url)
        port, host = parts.port, parts.hostname or ""
    except ValueError as exc:  # a port out of range, a broken IPv6 literal
        return f"cannot be used: {str(exc).split(':')[0]}"
    if port is not None and port == 0:
        return "has port 0: write a port from 1 to 65535"
    if ":" in host:  # an IPv6 literal
        return "" if _ipv6(host) else f"has an invalid IPv6 address [{host}]"
    labels = host.rstrip(".").split(".")
    if not all(_LABEL.match(label) for label in labels):
        return f"has an invalid host name '{host}' (empty or malformed label)"
    return ""


def _ipv6(host: str) -> bool:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def _dependencies(job: Entry) -> Iterator[tuple[int, str]]:
    """The index and job name of each usable ``depends_on`` item."""
    for index, item in enumerate(listed(job.data.get("depends_on"))):
        name = item.get("job") if isinstance(item, dict) else item
        if isinstance(name, str):
            yield index, name


_DATE_LISTS = frozenset(("dates", "exclude_dates"))


def _dates(node: Any, path: Path_ = ()) -> Iterator[tuple[Path_, str]]:
    """Every ``dates``/``exclude_dates`` item of a file, wherever it stands."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _DATE_LISTS and isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, str):
                        yield path + (key, index), item
            else:
                yield from _dates(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _dates(value, path + (index,))


def _strings(node: Any, path: Path_) -> Iterator[tuple[Path_, str]]:
    if isinstance(node, str):
        if "[[" in node:
            yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, path + (index,))
