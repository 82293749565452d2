"""The wire format of docs/amt-api.md: URL paths, JSON field names, and their checks.

This is the only module of amtflow that knows a path or a field name of the AMT Batch Server's
REST API. Decoders raise ``ProtocolError`` for answers that break the contract.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from amtflow.batch import JobStatus, Message, MessagePage, ServerStatus, StartRequest
from amtflow.errors import ProtocolError
from amtflow.task import TaskType

TOKEN_HEADER = "X-AMT-LogonToken"

STATUS_PATH = "/api/status"
LOGON_PATH = "/api/logon"
ACTION_PATH = "/api/OpConJobAction"

MAX_ID = 2**63 - 1  # batch request ids and seqs: what SQLite's INTEGER holds
MAX_CODE = 2**31 - 1  # completion codes: the table's are 0-99; unknown ones are kept
MAX_MESSAGE_CHARS = 64 * 1024  # a longer message is cut in the log (a 10 MB line helps no one)
MAX_TIME_CHARS = 64
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+\Z")  # visible ASCII: what a header value may carry
_HOST = re.compile(r"[A-Za-z0-9._:\[\]-]{1,255}\Z")


def monitor_path(batch_request_id: int) -> str:
    return f"/api/MonitorJob/{batch_request_id}"


def messages_path(batch_request_id: int) -> str:
    return f"/api/GetMessages/{batch_request_id}"


def logon_body(api_user: str, password: str) -> dict[str, Any]:
    return {"apiUser": api_user, "apiUserPassword": password}


_TASK_TYPES = {TaskType.BATCH_JOB: "BatchJob", TaskType.SCRIPT: "Script"}


def start_body(request: StartRequest) -> dict[str, Any]:
    """The OpConJobAction Start body of a batch job or a script."""
    task = request.task
    body: dict[str, Any] = {
        "action": "Start",
        "taskId": request.task_id,
        "taskType": _TASK_TYPES[task.type],
        "applicationName": task.application,
        "amtSubmitUser": task.submit_user,
        "amtUser": task.user,
        "amtStation": task.station,
        "amtQueueName": task.queue,
    }
    if task.type is TaskType.SCRIPT:
        body["scriptName"] = task.name
        body["scriptParameters"] = list(task.parameters)
    else:
        body["jobName"] = task.name
        body["taskValues"] = list(task.parameters)
    return body


def action_body(action: str, batch_request_id: int) -> dict[str, Any]:
    """The OpConJobAction body of a Kill or a Stop."""
    return {"action": action, "batchRequestId": batch_request_id}


def error_text(answer: object) -> str:
    """The ``message`` of an error body, or '' when the body is not the contract's shape."""
    if isinstance(answer, Mapping):
        message = answer.get("message")
        if isinstance(message, str):
            return message[:300]
    return ""


def parse_logon(answer: object) -> tuple[str, float]:
    """The token and its lifetime in seconds."""
    data = _mapping(answer, "logon")
    token = _field(data, "amtLogonToken", str, "logon")
    expires = _field(data, "expiresIn", (int, float), "logon")
    if not token or not math.isfinite(expires) or expires <= 0:
        raise ProtocolError("logon: empty token or non-positive expiresIn")
    if not _TOKEN_CHARS.match(token):
        # CR/LF or NUL in a header would be refused by aiohttp, or split the request.
        raise ProtocolError("logon: the token holds characters a header cannot carry")
    return token, float(expires)


def redirect_host(location: str | None) -> str:
    """The host a redirect points at, for a message: never its path, query or userinfo."""
    try:
        host = urlsplit(location or "").hostname or ""
    except ValueError:
        host = ""
    return host if _HOST.match(host) else "an unusable location" if location else "nowhere"


def parse_status(answer: object) -> ServerStatus:
    data = _mapping(answer, "status")
    return ServerStatus(
        version=_field(data, "version", str, "status"),
        batch_server=_field(data, "batchServer", str, "status"),
    )


def parse_job_status(answer: object, what: str, asked: int | None = None) -> JobStatus:
    """A Start, Kill or MonitorJob answer; ``asked`` is the batch request id it must be about."""
    data = _mapping(answer, what)
    if asked is not None and _counter(data, "batchRequestId", what, least=1) != asked:
        raise ProtocolError(
            f"{what}: the answer is about another job ({_short(data['batchRequestId'])})"
        )
    return JobStatus(
        batch_request_id=_counter(data, "batchRequestId", what, least=1),
        completion_code=_counter(data, "completionCode", what, most=MAX_CODE),
        status=_field(data, "status", str, what),
        description=_optional(data, "description", what) or "",
        start_time=_optional(data, "startTime", what),
        end_time=_optional(data, "endTime", what),
    )


def parse_messages(answer: object, what: str) -> MessagePage:
    data = _mapping(answer, what)
    items = _field(data, "messages", list, what)
    return MessagePage(
        messages=tuple(_message(item, what) for item in items),
        more=_field(data, "more", bool, what),
    )


def _message(item: object, what: str) -> Message:
    """One message; a well-formed one (all but always) is checked in one go, as it is read
    thousands of times a page, and anything else field by field to say what is wrong."""
    if type(item) is dict:
        seq, request, time, text = (item.get(k) for k in _MESSAGE_KEYS)
        if (
            type(seq) is int  # ``type is``: a bool is no seq
            and type(request) is int
            and type(time) is str
            and type(text) is str
            and 0 <= seq <= MAX_ID
            and 1 <= request <= MAX_ID
        ):
            return Message(seq, request, time[:MAX_TIME_CHARS], _bounded_text(text))
    return _checked_message(item, what)


_MESSAGE_KEYS = ("seq", "batchRequestId", "time", "text")


def _checked_message(item: object, what: str) -> Message:
    data = _mapping(item, what)
    return Message(
        seq=_counter(data, "seq", what),
        batch_request_id=_counter(data, "batchRequestId", what, least=1),
        time=_field(data, "time", str, what)[:MAX_TIME_CHARS],
        text=_bounded_text(_field(data, "text", str, what)),
    )


def _bounded_text(text: str) -> str:
    """A message as long as a log line should be: a longer one is cut, and says so."""
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    return f"{text[:MAX_MESSAGE_CHARS]}... [cut: the message had {len(text)} characters]"


def _counter(
    data: Mapping[str, Any], name: str, what: str, *, least: int = 0, most: int = MAX_ID
) -> int:
    """An integer id, seq or code within what the journal can store (SQLite: 64 bits)."""
    value: int = _field(data, name, int, what)
    if not least <= value <= most:
        raise ProtocolError(f"{what}: '{name}' is out of range ({_short(value)})")
    return value


def _short(value: int) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:12]}...({len(text)} digits)"


def _mapping(answer: object, what: str) -> Mapping[str, Any]:
    if not isinstance(answer, dict):
        raise ProtocolError(f"{what}: expected a JSON object, got {type(answer).__name__}")
    return answer


def _field(data: Mapping[str, Any], name: str, kind: Any, what: str) -> Any:
    value = data.get(name)
    if value is None:
        raise ProtocolError(f"{what}: answer has no '{name}'")
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise ProtocolError(f"{what}: '{name}' has the wrong type ({type(value).__name__})")
    return value


def _optional(data: Mapping[str, Any], name: str, what: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ProtocolError(f"{what}: '{name}' has the wrong type ({type(value).__name__})")
    return value
