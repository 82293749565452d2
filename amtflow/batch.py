"""The AMT job lifecycle as data: completion codes, job status, messages, and the client protocol.

Nothing here knows the wire format (that is ``amtflow.client``); the engine and its tests depend
only on these types and on the ``BatchClient`` protocol, so an in-memory fake can stand in for
the real client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from amtflow.task import AmtTask


@dataclass(frozen=True)
class CompletionCode:
    """One row of the completion-code table (docs/amt-api.md is generated from ``CODES``)."""

    code: int
    name: str
    description: str
    terminal: bool
    ok: bool = False


_TABLE = (
    (0, "IDLE", "Job is idle.", False),
    (1, "QUEUED", "Job is queued for future start in current timeframe.", False),
    (2, "RUNNING", "Job was started manually or by the scheduler.", False),
    (3, "KILLED", "Job was terminated by a 'kill' command.", True),
    (4, "DONE", "Job completed normally.", True),
    (5, "SUSPENDED", "Queued job has not started on time.", False),
    (6, "SKIPPED_BY_OPS", "Suspended Job has been skipped by control center.", True),
    (7, "RUN_MANUAL", "Job was started by control center.", False),
    (8, "RUN_FORCED", "Forced start manual, start this job even when job server halted.", False),
    (9, "RUN_DEBUG", "When a report is started from Visual Studio.", False),
    (10, "DEL_QUEUE", "Job is deleted from queue.", True),
    (11, "ERROR", "Job Ended in Error.", True),
    (12, "ABORTED", "The Job was aborted on purpose in the business-logic.", True),
    (13, "WAIT FOR FILE", "Waiting for a file.", False),
    (14, "WAIT FOR INPUT REQUEST", "Waiting for Request.", False),
    (15, "WAIT FOR JOB", "Waiting for another job to finish.", False),
    (16, "WAIT FOR REPORT", "Waiting for a report to finish, for future use.", False),
    (18, "RECOVER_CP", "A request to recover from a saved critical point.", False),
    (19, "UNDEFINED", "State is undefined.", True),
    (20, "WAIT_FOR QUEUE", "Waiting for queue start time.", False),
    (21, "WAIT_FOR_DEBUGGER", "Waiting for a LION Debugger to start debug session.", False),
    (22, "ABORTED_WITH_RECOVER", "Aborted with recover.", True),
    (23, "WEB_SERVER_ERROR", "The AMT Batch Server could not be reached.", True),
    (24, "AUTHENTICATION_ERROR", "The API user's credentials were refused.", True),
    (99, "INVALID AMT USER", "The named AMT user (RunAs) is invalid.", True),
)

CODES: dict[int, CompletionCode] = {
    code: CompletionCode(code, name, description, terminal, ok=(code == 4))
    for code, name, description, terminal in _TABLE
}

DONE = 4
KILLED = 3
ERROR = 11
UNDEFINED = 19
WEB_SERVER_ERROR = 23
AUTHENTICATION_ERROR = 24


def completion_code(code: int) -> CompletionCode:
    """The table row for ``code``; an unknown code is not terminal and not ok (docs/amt-api.md)."""
    known = CODES.get(code)
    if known is not None:
        return known
    return CompletionCode(code, f"UNKNOWN_{code}", "Completion code not in the table.", False)


@dataclass(frozen=True)
class StartRequest:
    """Everything an OpConJobAction Start carries: a resolved task (no [[properties]] left)
    under the task id that makes a repeated Start the same job."""

    task_id: str
    task: AmtTask


@dataclass(frozen=True)
class JobStatus:
    """What Start, MonitorJob and Kill answer about one AMT job."""

    batch_request_id: int
    completion_code: int
    status: str
    description: str = ""
    start_time: str | None = None
    end_time: str | None = None

    @property
    def code(self) -> CompletionCode:
        return completion_code(self.completion_code)

    @property
    def terminal(self) -> bool:
        return self.code.terminal

    @property
    def ok(self) -> bool:
        return self.code.ok


class Message(NamedTuple):
    """One line of a job's log, as GetMessages returns it (children included). A named tuple,
    not a dataclass: a page holds thousands, and a tuple is made in a third of the time."""

    seq: int
    batch_request_id: int
    time: str
    text: str


@dataclass(frozen=True)
class MessagePage:
    """One page of GetMessages: ``more`` says ask again with ``after`` = the last seq."""

    messages: tuple[Message, ...] = field(default_factory=tuple)
    more: bool = False


@dataclass(frozen=True)
class ServerStatus:
    """The answer of /api/status."""

    version: str
    batch_server: str


class BatchClient(Protocol):
    """What the engine needs from one agent's AMT Batch Server.

    Implementations raise ``amtflow.errors.AmtError`` subclasses, never library errors.
    """

    async def status(self) -> ServerStatus:
        """Reachability and version; needs no token."""

    async def logon(self) -> None:
        """Get a token now (preflight); later calls log on by themselves when needed."""

    async def start(self, request: StartRequest) -> JobStatus:
        """Start a job; repeating the same ``task_id`` never starts a second job."""

    async def monitor(self, batch_request_id: int) -> JobStatus:
        """The job's current status."""

    async def messages(self, batch_request_id: int, after: int = 0) -> MessagePage:
        """One page of the job's messages with ``seq > after``."""

    async def kill(self, batch_request_id: int) -> JobStatus:
        """Ask the server to kill the job; the answer is not proof it is killed."""


async def message_pages(
    client: BatchClient, batch_request_id: int, after: int = 0, *, max_pages: int
) -> AsyncIterator[MessagePage]:
    """GetMessages page after page: each page's messages with ``seq > after`` (``after`` moving
    on), for at most ``max_pages`` pages. A page that brings nothing new ends it (given as an
    empty page without ``more``), so ``more: true`` forever cannot loop forever; the last page
    given says ``more`` only when ``max_pages`` ran out first."""
    for _ in range(max_pages):
        page = await client.messages(batch_request_id, after)
        fresh = tuple(message for message in page.messages if message.seq > after)
        if not fresh:
            yield MessagePage()
            return
        after = max(message.seq for message in fresh)
        yield MessagePage(fresh, page.more)
        if not page.more:
            return
