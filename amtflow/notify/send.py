"""Delivering one message to one Apprise URL: in a thread of its own, bounded, retried, redacted.

One ``Apprise`` object per URL (``Apprise().add(url)``); its plugins are blocking (requests,
smtplib). Each try calls ``Apprise.notify`` in a daemon thread of ours, awaited with a timeout,
so a target that hangs costs the run nothing: the event loop never blocks, and a thread still
stuck when amtflow exits does not hold the process. The asset keeps Apprise from handing the send
to a thread pool of its own (``async_mode``, and Apprise 2's ``service_timeout``): the
interpreter joins such threads at exit, so a receiver that never answers kept amtflow alive past
the end of its run (``async_notify`` does the same). ``Apprise.notify`` rather than the plugin's
own ``notify``: Apprise 1 converts the text body to the plugin's format only there. The plugin's
socket timeouts are set to the try's bound, so a stuck thread ends on its own soon after.

Secrets: an Apprise URL holds tokens and passwords. Nothing here shows a URL; a target is named by
its notification, position and scheme (``ops URL 1 (json)``). Apprise logs through ``logging``
(at DEBUG, whole URLs): its logger is cut off from the root logger and its records are kept, per
thread, only to explain a failure, after every part of the URL was masked out of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import apprise

from amtflow.secrets import masking

from .message import Message

MASK = "***"
_MIN_SECRET_PART = 4  # shorter URL parts (ports, "api") are noise, not secrets
_REASON_LIMIT = 300
MAX_SPACING = 1.0  # seconds between two messages to one service


class Redactor:
    """Masks every part of some URLs (user, password, host, path segments, query values); a
    user or password of any length (a short one where it stands as a whole token)."""

    def __init__(self, urls: Iterable[str] = ()) -> None:
        parts: set[str] = set()
        for url in urls:
            parts |= _secret_parts(url) | _credentials(url)
        self._mask = masking(parts, MASK)  # the whole URL before its pieces

    def __call__(self, text: str) -> str:
        return self._mask(text)


def _secret_parts(url: str) -> set[str]:
    rest = url.partition("://")[2] or url
    pieces = {url, rest, *re.split(r"[/?&=#@:,;+\s]+", rest)}
    found = {p for piece in pieces for p in (piece, unquote(piece), quote(piece, safe=""))}
    return {p for p in found if len(p) >= _MIN_SECRET_PART}


def _credentials(url: str) -> set[str]:
    """The URL's user and password, however short: they are secrets, not noise."""
    userinfo = (url.partition("://")[2] or url).split("/", 1)[0].rpartition("@")[0]
    if not userinfo:
        return set()
    pieces = set(userinfo.split(":", 1))
    return {p for piece in pieces for p in (piece, unquote(piece), quote(piece, safe=""))}


_SENDING: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "amtflow_sending", default=None
)


class _LogKeeper(logging.Handler):
    """Apprise's warnings, kept by the send they belong to, so a failed try can say why.

    Apprise may log from its own worker threads; it hands them the caller's context, so the
    context variable ``_SENDING`` tells which send a record belongs to. Others are dropped.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.kept: dict[int, list[logging.LogRecord]] = {}
        self._serial = itertools.count(1)

    def emit(self, record: logging.LogRecord) -> None:
        sending = _SENDING.get()
        if sending is not None and sending in self.kept:
            self.kept[sending].append(record)

    @contextlib.contextmanager
    def keeping(self) -> Iterator[list[logging.LogRecord]]:
        """Records logged while the block runs (in this context), dropped after it."""
        serial = next(self._serial)
        records = self.kept[serial] = []
        token = _SENDING.set(serial)
        try:
            yield records
        finally:
            _SENDING.reset(token)
            self.kept.pop(serial, None)


_KEEPER = _LogKeeper()
# the HTTP libraries under Apprise's plugins log request paths (tokens) at DEBUG
_HTTP_LOGGERS = (
    "requests",
    "urllib3",
    "urllib3.connection",
    "urllib3.connectionpool",
    "urllib3.poolmanager",
    "urllib3.util.retry",
)


def _not_while_sending(record: logging.LogRecord) -> bool:
    return _SENDING.get() is None


def quiet_apprise() -> None:
    """Keep Apprise's log records (which may carry URLs) away from every other handler."""
    logger = logging.getLogger("apprise")
    logger.propagate = False
    logger.setLevel(logging.WARNING)  # its DEBUG lines print whole URLs: never even build them
    if _KEEPER not in logger.handlers:
        logger.addHandler(_KEEPER)
    for name in _HTTP_LOGGERS:
        http = logging.getLogger(name)
        if _not_while_sending not in http.filters:
            http.addFilter(_not_while_sending)


@dataclass(frozen=True)
class Policy:
    """How hard a message is tried: seconds per try, tries, pause before the next try."""

    timeout: float = 10.0
    tries: int = 3
    pause: float = 1.0


@dataclass(frozen=True)
class Outcome:
    """How sending one message to one target went (``reason`` already masked)."""

    delivered: bool
    tries: int
    reason: str = ""


class Target:
    """One Apprise URL of a notification, ready to send to; holds the URL, never shows it."""

    def __init__(self, notification: str, index: int, url: str) -> None:
        quiet_apprise()
        self.notification, self.index = notification, index
        scheme = url.partition("://")[0]
        self.scheme = scheme if scheme.isalnum() and len(scheme) <= 20 else "?"
        self.redact = Redactor([url])
        self._apprise = apprise.Apprise(asset=_asset())
        self.usable = self._add(url)
        self.reachable = True  # once a message failed every try, the next get one try
        self._turn: asyncio.Lock | None = None  # one message at a time, in the order sent

    def __repr__(self) -> str:
        return f"<Target {self.label}>"

    @property
    def label(self) -> str:
        """``notification 'ops' URL 1 (json)``: how messages name a target."""
        return f"notification '{self.notification}' URL {self.index} ({self.scheme})"

    def _add(self, url: str) -> bool:
        with _KEEPER.keeping():  # an unusable URL's log lines quote it: drop them
            try:
                added = bool(self._apprise.add(url))
            except Exception:
                added = False
        return added and len(self._apprise) == 1

    def _limit_waits(self, seconds: float) -> None:
        for plugin in self._apprise:
            with contextlib.suppress(Exception):
                plugin.socket_connect_timeout = seconds
                plugin.socket_read_timeout = seconds
                # Apprise spaces messages to one service (5.5 s for many): sends to a target are
                # one at a time here already, and few, so a short pause keeps a try in its bound
                plugin.request_rate_per_sec = min(plugin.request_rate_per_sec, MAX_SPACING)

    def send_blocking(self, message: Message, timeout: float) -> tuple[bool, str]:
        """One try, in the calling thread: delivered?, and why not (masked)."""
        self._limit_waits(timeout)
        notify_type = apprise.NotifyType.FAILURE if message.failure else apprise.NotifyType.INFO
        with _KEEPER.keeping() as records:
            try:
                sent = bool(
                    self._apprise.notify(
                        body=message.body,
                        title=message.title,
                        notify_type=notify_type,
                        body_format=apprise.NotifyFormat.TEXT,
                    )
                )
                reason = "" if sent else _why(records)
            except Exception as exc:
                sent, reason = False, f"{type(exc).__name__}: {exc}"
        return sent, self._short(reason) if not sent else ""

    def _short(self, reason: str) -> str:
        text = " ".join(self.redact(reason).split())
        return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 3] + "..."

    async def send(self, message: Message, policy: Policy) -> Outcome:
        """Deliver after the messages sent before to this target; never raises or blocks."""
        self._turn = self._turn or asyncio.Lock()
        async with self._turn:
            outcome = await self._tries(message, policy.tries if self.reachable else 1, policy)
        self.reachable = outcome.delivered
        return outcome

    async def _tries(self, message: Message, tries: int, policy: Policy) -> Outcome:
        reason = ""
        for attempt in range(1, tries + 1):
            try:
                sent, reason = await _in_thread(
                    lambda: self.send_blocking(message, policy.timeout), policy.timeout + 1.0
                )
            except TimeoutError:
                sent, reason = False, f"no answer within {policy.timeout:g}s"
            if sent:
                return Outcome(True, attempt)
            if attempt < tries:
                await asyncio.sleep(policy.pause * attempt)
        return Outcome(False, tries, reason)


def _asset() -> apprise.AppriseAsset:
    """Apprise sends in the calling thread (see the module docstring)."""
    try:
        return apprise.AppriseAsset(app_id="amtflow", async_mode=False, service_timeout=0)
    except (AttributeError, TypeError):  # Apprise 1 has no service_timeout (nor a pool for one)
        return apprise.AppriseAsset(app_id="amtflow", async_mode=False)


def _why(records: list[logging.LogRecord]) -> str:
    texts = [_text(record) for record in records]
    return texts[-1] if texts else "the service did not accept the message"


def _text(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:
        return str(record.msg)


async def _in_thread(work: Callable[[], Any], timeout: float) -> Any:
    """``work()`` in a daemon thread, awaited for at most ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)

    def run() -> None:
        result, error = None, None
        try:
            result = work()
        except BaseException as exc:
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop closed while a stuck try went on
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="amtflow-notify", daemon=True).start()
    try:
        return await asyncio.wait_for(asyncio.shield(done), timeout)
    except asyncio.TimeoutError as exc:
        raise TimeoutError from exc
