"""Checks of request bodies, exactly as docs/amt-api.md fixes them; a failure is a 400."""

from __future__ import annotations

from typing import Any

MAX_ITEMS = 20


class BadRequest(Exception):
    """The request is malformed; the message goes in the 400 answer."""


def logon(body: Any) -> tuple[str, str]:
    """The apiUser and its password."""
    data = _object(body)
    return _text(data, "apiUser"), _text(data, "apiUserPassword")


def action(body: Any) -> str:
    data = _object(body)
    name = data.get("action")
    if name not in ("Start", "Kill", "Stop"):
        raise BadRequest("'action' must be Start, Kill or Stop")
    return str(name)


def batch_request_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRequest("'batchRequestId' must be a non-negative integer")
    return value


def path_id(text: str) -> int:
    if not text.isdigit():
        raise BadRequest(f"batch request id {text[:40]!r} is not a number")
    return int(text)


def after(text: str | None) -> int:
    if text is None:
        return 0
    if not text.isdigit():
        raise BadRequest("'after' must be a non-negative integer")
    return int(text)


def start(body: dict[str, Any]) -> str:
    """Check a Start body; returns the job or script name."""
    _text(body, "taskId")
    task_type = body.get("taskType")
    _text(body, "applicationName")
    _text(body, "amtSubmitUser")
    _text(body, "amtStation")
    _optional_text(body, "amtUser")
    _optional_text(body, "amtQueueName")
    if task_type == "BatchJob":
        _items(body, "taskValues")
        return _text(body, "jobName")
    if task_type == "Script":
        for item in _items(body, "scriptParameters"):
            if "=" not in item or item.startswith("="):
                raise BadRequest(f"script parameter {item[:60]!r} is not NAME=value")
        return _text(body, "scriptName")
    raise BadRequest("'taskType' must be BatchJob or Script")


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"'{name}' must be a non-empty string")
    return value


def _optional_text(data: dict[str, Any], name: str) -> None:
    if name not in data:
        raise BadRequest(f"'{name}' is required (null when not set)")
    value = data[name]
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string or null")


def _items(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadRequest(f"'{name}' must be a list of strings")
    if len(value) > MAX_ITEMS:
        raise BadRequest(f"'{name}' holds {len(value)} items; at most {MAX_ITEMS} are allowed")
    return value
