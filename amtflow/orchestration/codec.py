"""The journal's JSON codec for recorded dataclasses: ``to_data`` and ``from_data``.

``to_data`` turns a dataclass tree into JSON-ready data (enums by value, dates as ISO text, sets
sorted); ``from_data`` builds it back following the fields' type hints, so a field added later
reads back with its default from older records and a field an older amtflow does not know is
ignored. ``encoder(cls)`` is ``to_data`` for one dataclass type, worked out once from its type
hints instead of asked of every value: a 10,000-job plan is about 500,000 values (issue 16). It
gives exactly what ``to_data`` gives, and hands any value its hint does not describe to it.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime as dt
import enum
import json
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from amtflow.model import MasterJob
from amtflow.request import AmtRequest

T = TypeVar("T")
Encode = Callable[[Any], Any]

_AS_IS = frozenset((str, int, float, bool, type(None)))  # exact types: a str enum is not one


def to_data(value: Any) -> Any:
    """A dataclass tree as JSON-ready data (enums by value, dates as ISO text, sets sorted)."""
    if type(value) in _AS_IS:  # most leaves: answered first, a plan has ~50 of them a job
        return value
    names = field_names(type(value))
    if names is not None:
        return {name: to_data(getattr(value, name)) for name in names}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (frozenset, set)):
        return sorted((to_data(item) for item in value), key=json.dumps)
    if isinstance(value, (list, tuple)):
        return [to_data(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): to_data(item) for key, item in value.items()}
    return value


_ENCODERS: dict[type, Encode] = {}


def encoder(cls: type) -> Encode:
    """``to_data`` for instances of the dataclass ``cls``, built once from its type hints.

    Written out as one function per class, as ``dataclasses`` writes ``__init__``: a field is
    read once and its encoder called directly (a generic loop over the fields cost twice as
    much)."""
    if cls not in _ENCODERS:
        _ENCODERS[cls] = to_data  # while its own fields are worked out (a recursive type)
        hints = typing.get_type_hints(cls)
        names = [f.name for f in dataclasses.fields(cls)]
        scope: dict[str, Any] = {"cls": cls, "to_data": to_data}
        scope.update({f"_{index}": _hinted(hints[name]) for index, name in enumerate(names)})
        items = ", ".join(f"{name!r}: _{index}(value.{name})" for index, name in enumerate(names))
        source = (
            "def encode(value):\n"
            "    if type(value) is not cls:\n"
            "        return to_data(value)\n"
            f"    return {{{items}}}\n"
        )
        exec(source, scope)  # the source is made of field names only
        _ENCODERS[cls] = scope["encode"]
    return _ENCODERS[cls]


def _leaf(value: Any) -> Any:
    return value if type(value) in _AS_IS else to_data(value)


def _hinted(hint: Any) -> Encode:
    """How a field hinted ``hint`` is encoded: quick where the hint says what to expect."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint in _AS_IS:
        return _leaf
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = _hinted(next(arg for arg in args if arg is not type(None)))
        return lambda value: None if value is None else inner(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return encoder(hint)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return lambda value: value.value if type(value) is hint else to_data(value)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _hinted(args[0])
        return lambda value: (
            [item(each) for each in value] if type(value) is tuple else to_data(value)
        )
    return to_data


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def field_names(cls: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type (None for any other type), looked up once a type."""
    if cls not in _FIELD_NAMES:
        fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else None
        _FIELD_NAMES[cls] = tuple(f.name for f in fields) if fields is not None else None
    return _FIELD_NAMES[cls]


def from_data(cls: type[T], data: Mapping[str, Any]) -> T:
    """``cls`` built back from ``to_data``'s output, following its fields' type hints."""
    if cls in _OLDER_FORMS:
        data = _OLDER_FORMS[cls](data)
    fields = _fields(cls)
    values = {name: _decode(hint, data[name]) for name, hint in fields if name in data}
    return cls(**values)


_FIELDS: dict[type, tuple[tuple[str, Any], ...]] = {}
_FORM_FIELDS = ("application", "submit_user", "user", "station", "queue")


def _task_before_amt_task(data: Mapping[str, Any], kind: Any) -> dict[str, Any]:
    """A task as amtflow 0.x recorded it, spread over its job or request: ``job_name`` with
    ``task_values``, or ``script_name`` with ``script_parameters`` (pairs in a master job,
    ``NAME=value`` in a request)."""
    script = kind == "script"
    parameters = data.get("script_parameters" if script else "task_values") or []
    task = {key: data[key] for key in _FORM_FIELDS if key in data}
    return {
        **task,
        "type": kind,
        "name": data.get("script_name" if script else "job_name") or "",
        "parameters": ["=".join(p) if isinstance(p, list) else p for p in parameters],
    }


def _master_job_form(data: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(data.get("task"), str):
        return data
    return {**data, "task": _task_before_amt_task(data, data["task"])}


def _request_form(data: Mapping[str, Any]) -> Mapping[str, Any]:
    if "task_type" not in data:
        return data

    def task(older: Any) -> Any:
        return _task_before_amt_task(older, older.get("task_type")) if older else None

    return {
        **data,
        "task": task(data),
        "masked": task(data.get("masked")),
        "kept": task(data.get("kept")),
    }


# Older forms of a recorded class, brought to today's before decoding: plans recorded by an
# earlier amtflow must still run (resume, rerun, kill, abandon).
_OLDER_FORMS: dict[type, Callable[[Mapping[str, Any]], Mapping[str, Any]]] = {
    MasterJob: _master_job_form,
    AmtRequest: _request_form,
}


def _fields(cls: type) -> tuple[tuple[str, Any], ...]:
    """The init fields of a dataclass with their resolved type hints, once per class: resolving
    hints costs milliseconds, and a 2,000-job plan decodes tens of thousands of objects (3.1 s
    before, 0.5 s with this)."""
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls)
        fields = dataclasses.fields(cls)
        _FIELDS[cls] = tuple((f.name, hints[f.name]) for f in fields if f.init)
    return _FIELDS[cls]


def _decode(hint: Any, value: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return _decode(next(arg for arg in args if arg is not type(None)), value)
    if dataclasses.is_dataclass(hint):
        return from_data(hint, value)  # type: ignore[arg-type]
    if origin in (tuple, frozenset, set) and not isinstance(value, list):
        raise TypeError(f"expected a list, found {value!r}")
    if origin in (dict, collections.abc.Mapping) and not isinstance(value, dict):
        raise TypeError(f"expected an object, found {value!r}")
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in value)
        return tuple(_decode(arg, item) for arg, item in zip(args, value, strict=True))
    if origin in (frozenset, set):
        return frozenset(_decode(args[0], item) for item in value)
    if origin in (dict, collections.abc.Mapping):
        return {key: _decode(args[1], item) for key, item in value.items()}
    return _decode_scalar(hint, value)


def _decode_scalar(hint: Any, value: Any) -> Any:
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if hint is dt.datetime:
        when = dt.datetime.fromisoformat(value)
        if when.tzinfo is None:
            raise ValueError(f"{value!r} has no time zone")
        return when
    if hint is dt.date:
        return dt.date.fromisoformat(value)
    if hint is dt.time:
        return dt.time.fromisoformat(value)
    if hint is dt.timedelta:
        return dt.timedelta(seconds=value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (str, int, float, bool) and (
        not isinstance(value, hint) or (hint is int and isinstance(value, bool))
    ):
        raise TypeError(f"expected {hint.__name__}, found {value!r}")
    return value
