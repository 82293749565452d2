"""Scripted job behaviours for the simulator, from YAML or a mapping.

version: 8.0.24223.0          # what /api/status answers
users: {OPCONAPI: secret}     # optional: apiUser -> password (default: any password)
applications: [DEMO2]         # optional: other application names answer 404
invalid_users: [BADUSER]      # RunAs users that end a job with 99 INVALID AMT USER
token_lifetime: 3600          # expiresIn of a logon, seconds
default: {duration: 0.2}      # for names not listed below
jobs:
  REPORTTEST01:
    duration: 30              # seconds running (after the queued phase)
    queued: 1                 # seconds QUEUED before it runs
    end_code: 4               # any completion code
    ignores_kill: false       # a kill is answered but changes nothing
    messages: ["step 1", {at: 12, text: "step 2"}]   # spread over the run unless 'at'
    children: [{name: CHILD1, at: 5, duration: 10, messages: [...]}]
  'F:\\Amt\\Scripts\\GONE.ps1': {missing: true}        # ends 11 "File not found"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amtflow.definitions.yamlload import read_document
from amtflow.definitions.yamlmarks import YamlProblem
from amtflow.errors import UsageError

DEFAULT_VERSION = "8.0.24223.0"


@dataclass(frozen=True)
class TimedMessage:
    """A message text and when it appears (seconds into the run; None = spread evenly)."""

    text: str
    at: float | None = None


@dataclass(frozen=True)
class ChildScript:
    """A child job: its own batch request id and messages, inside its parent's run."""

    name: str
    at: float = 0.0
    duration: float = 0.0
    messages: tuple[TimedMessage, ...] = ()


@dataclass(frozen=True)
class JobScript:
    """How one job or script behaves on the simulated server."""

    duration: float = 0.2
    end_code: int = 4
    queued: float = 0.0
    ignores_kill: bool = False
    missing: bool = False
    messages: tuple[TimedMessage, ...] | None = None  # None: the vendor-like default log
    children: tuple[ChildScript, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """Every scripted behaviour of one simulator."""

    jobs: Mapping[str, JobScript] = field(default_factory=dict)
    default: JobScript = JobScript()
    version: str = DEFAULT_VERSION
    users: Mapping[str, str] | None = None
    applications: frozenset[str] | None = None
    invalid_users: frozenset[str] = frozenset()
    token_lifetime: float = 3600.0

    def script_for(self, name: str) -> JobScript:
        """The behaviour of the job or script called ``name`` (the default if not listed)."""
        return self.jobs.get(name, self.default)

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read a scenario YAML file; a bad file is a ``UsageError`` naming it."""
        try:  # the definitions' YAML 1.2 reader: `NO` and `on` mean the same in both files
            data = read_document(Path(path)).data
        except YamlProblem as exc:
            raise UsageError(f"scenario {path}:{exc.line}:{exc.column}: {exc.message}") from None
        try:
            return cls.from_mapping(data or {})
        except UsageError as exc:
            raise UsageError(f"scenario {path}: {exc}") from None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Scenario:
        """Build a scenario from plain data (as in the YAML file)."""
        _require(isinstance(data, Mapping), "a scenario is a mapping")
        _known(
            data,
            {
                "version",
                "users",
                "applications",
                "invalid_users",
                "token_lifetime",
                "default",
                "jobs",
            },
            "scenario",
        )
        jobs = data.get("jobs") or {}
        _require(isinstance(jobs, Mapping), "'jobs' is a mapping of name -> behaviour")
        apps = data.get("applications")
        return cls(
            jobs={str(name): _job(spec, str(name)) for name, spec in jobs.items()},
            default=_job(data.get("default") or {}, "default"),
            version=str(data.get("version", DEFAULT_VERSION)),
            users=_users(data.get("users")),
            applications=frozenset(map(str, apps)) if apps is not None else None,
            invalid_users=frozenset(map(str, data.get("invalid_users") or ())),
            token_lifetime=_number(data.get("token_lifetime", 3600.0), "token_lifetime"),
        )


_JOB_KEYS = {"duration", "end_code", "queued", "ignores_kill", "missing", "messages", "children"}


def _job(spec: Any, name: str) -> JobScript:
    _require(isinstance(spec, Mapping), f"job {name}: a mapping of its behaviour")
    _known(spec, _JOB_KEYS, f"job {name}")
    messages = spec.get("messages")
    return JobScript(
        duration=_number(spec.get("duration", 0.2), f"job {name}: duration"),
        end_code=_code(spec.get("end_code", 4), name),
        queued=_number(spec.get("queued", 0.0), f"job {name}: queued"),
        ignores_kill=_flag(spec.get("ignores_kill", False), f"job {name}: ignores_kill"),
        missing=_flag(spec.get("missing", False), f"job {name}: missing"),
        messages=None if messages is None else _messages(messages, name),
        children=tuple(_child(item, name) for item in spec.get("children") or ()),
    )


def _child(spec: Any, parent: str) -> ChildScript:
    _require(isinstance(spec, Mapping) and "name" in spec, f"job {parent}: a child needs a name")
    _known(spec, {"name", "at", "duration", "messages"}, f"job {parent}: child")
    return ChildScript(
        name=str(spec["name"]),
        at=_number(spec.get("at", 0.0), f"job {parent}: child at"),
        duration=_number(spec.get("duration", 0.0), f"job {parent}: child duration"),
        messages=_messages(spec.get("messages") or (), parent),
    )


def _messages(items: Any, name: str) -> tuple[TimedMessage, ...]:
    _require(isinstance(items, (list, tuple)), f"job {name}: 'messages' is a list")
    return tuple(_message(item, name) for item in items)


def _message(item: Any, name: str) -> TimedMessage:
    if isinstance(item, Mapping):
        _require("text" in item, f"job {name}: a message needs 'text'")
        at = item.get("at")
        return TimedMessage(str(item["text"]), None if at is None else _number(at, "at"))
    return TimedMessage(str(item))


def _code(value: Any, name: str) -> int:
    _require(
        isinstance(value, int) and not isinstance(value, bool) and value >= 0,
        f"job {name}: end_code must be a completion code (an integer)",
    )
    return int(value)


def _users(users: Any) -> Mapping[str, str] | None:
    if users is None:
        return None
    _require(isinstance(users, Mapping), "'users' is a mapping of apiUser -> password")
    return {str(user): str(password) for user, password in users.items()}


def _number(value: Any, what: str) -> float:
    _require(
        isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0,
        f"{what} must be a number >= 0",
    )
    return float(value)


def _known(spec: Mapping[str, Any], keys: set[str], what: str) -> None:
    unknown = sorted(set(map(str, spec)) - keys)
    _require(not unknown, f"{what}: unknown key(s) {', '.join(unknown)}")


def _flag(value: Any, what: str) -> bool:
    _require(isinstance(value, bool), f"{what} must be true or false")
    return bool(value)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise UsageError(message)
