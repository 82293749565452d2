"""The simulator's record of every request it received, for tests to read."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordedRequest:
    """One request as received; the handler fills in how it was answered.

    A logon's password is replaced by ``***``: not even the simulator keeps it.
    """

    method: str
    path: str
    query: dict[str, str]
    body: Any
    time: float  # time.monotonic() when received
    token: str | None = field(default=None, repr=False)
    answer: int | None = None  # HTTP status; None when the connection was dropped
    created: int | None = None  # batch request id of a job this Start created
    fault: str = ""  # the fault injected, if any

    @property
    def action(self) -> str | None:
        return self.body.get("action") if isinstance(self.body, dict) else None


class Record:
    """Every request received, in order, with counting helpers."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []

    def __len__(self) -> int:
        return len(self.requests)

    def add(self, request: RecordedRequest) -> RecordedRequest:
        self.requests.append(request)
        return request

    def clear(self) -> None:
        self.requests.clear()

    def count(self, path_prefix: str = "", method: str | None = None) -> int:
        """How many requests had a path starting with ``path_prefix`` (and ``method``)."""
        return sum(
            1
            for r in self.requests
            if r.path.startswith(path_prefix) and (method is None or r.method == method)
        )

    def starts(self) -> list[RecordedRequest]:
        """Every Start request received, repeats and rejected ones included."""
        return [r for r in self.requests if r.action == "Start"]

    def starts_by_job(self) -> Counter[str]:
        """Jobs actually started (a Start that created a job), by job or script name."""
        return Counter(_name(r.body) for r in self.starts() if r.created is not None)

    def starts_by_task_id(self) -> Counter[str]:
        """Start requests received, by taskId (a repeated Start counts each time)."""
        return Counter(str(r.body.get("taskId")) for r in self.starts())

    def faults(self) -> Counter[str]:
        """How many times each fault was injected."""
        return Counter(r.fault for r in self.requests if r.fault)


def _name(body: dict[str, Any]) -> str:
    return str(body.get("jobName") or body.get("scriptName"))
