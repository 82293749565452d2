"""One HTTP exchange with an AMT Batch Server: send, read a bounded body, parse JSON.

Library errors stop here: aiohttp and asyncio faults become ``Transient`` (worth a retry) or
``ProtocolError``. Nothing raised from here carries a request body or a header.
"""

from __future__ import annotations

import asyncio
import json
import ssl as ssl_module
from dataclasses import dataclass
from typing import Any

import aiohttp

from amtflow.client.policy import parse_retry_after
from amtflow.errors import ProtocolError

# aiohttp >= 3.10 says a non-HTTP URL with its own error; 3.9 (our lower bound) with InvalidURL
_URL_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.InvalidURL,
    UnicodeError,
    *((aiohttp.NonHttpUrlClientError,) if hasattr(aiohttp, "NonHttpUrlClientError") else ()),
)


@dataclass(frozen=True)
class Answer:
    """A non-transient answer: its status and its JSON (None when the body was not JSON)."""

    status: int
    data: Any
    location: str | None = None  # a redirect's Location header, never followed


class TlsFailure(ProtocolError):
    """The TLS handshake failed: an untrusted certificate, or no TLS at all. Never retried."""


class Transient(Exception):
    """A fault worth retrying; ``reason`` is safe to show (no bodies, no headers)."""

    def __init__(
        self, reason: str, retry_after: float | None = None, *, timed_out: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.timed_out = timed_out


async def exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    body: dict[str, Any] | None,
    headers: dict[str, str] | None,
    ssl: ssl_module.SSLContext | bool,
    timeout: aiohttp.ClientTimeout,
    max_body: int,
) -> Answer:
    """Send one request; raise ``Transient`` for faults that a retry may cure."""
    try:
        async with session.request(
            method,
            url,
            json=body,
            headers=headers,
            ssl=ssl,
            timeout=timeout,
            allow_redirects=False,  # a redirect would re-send the password or token elsewhere
        ) as response:
            raw = await _read_bounded(response, max_body)
            status = response.status
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            location = response.headers.get("Location")
    except asyncio.TimeoutError:
        raise Transient("timed out", timed_out=True) from None
    except aiohttp.ClientSSLError as exc:
        raise TlsFailure(_tls_reason(exc)) from None
    # Faults of the request itself: a retry would fail the same way. (After the TLS clause: a
    # certificate error is a ValueError too.)
    except _URL_ERRORS as exc:
        raise ProtocolError(f"the URL cannot be used ({type(exc).__name__})") from None
    except ValueError as exc:  # aiohttp refuses a header it would send (CR/LF, NUL)
        raise ProtocolError(f"a request header cannot be sent ({type(exc).__name__})") from None
    except aiohttp.ClientPayloadError:
        raise Transient("truncated answer") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise Transient(f"connection failed: {_reason(exc)}") from None
    return _answer(status, raw, retry_after, location)


def _answer(status: int, raw: bytes, retry_after: float | None, location: str | None) -> Answer:
    if status == 429 or status >= 500:
        raise Transient(f"HTTP {status}", retry_after)
    data = _json(raw)
    if data is _NOT_JSON and 200 <= status < 300:
        html = raw.lstrip()[:1] == b"<"  # a proxy's or a web server's page, not a cut answer
        raise Transient(HTML_ANSWER if html else "answer is not valid JSON (truncated?)")
    return Answer(status, None if data is _NOT_JSON else data, location)


_NOT_JSON = object()
HTML_ANSWER = "answer is not valid JSON but an HTML page"


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError; 100,000 nested '['
        return _NOT_JSON


async def _read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes:
    length = response.content_length
    if length is not None and length > limit:
        raise ProtocolError(f"answer of {length} bytes is over the {limit}-byte limit")
    if length is not None:
        return await response.read()
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise ProtocolError(f"answer is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _reason(exc: BaseException) -> str:
    """A short description of a library error; never its request."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {exc.host}:{exc.port} ({exc.os_error.strerror or exc.os_error})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server closed the connection"
    text = str(exc)
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__


def _tls_reason(exc: aiohttp.ClientSSLError) -> str:
    """What failed in the handshake, and what to do about an untrusted certificate."""
    where = f"{exc.host}:{exc.port}"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        error = exc.certificate_error
        detail = getattr(error, "verify_message", None) or str(error)
        return (
            f"the TLS certificate of {where} is not trusted ({detail}); if the server uses "
            "a private CA, set the agent's tls.ca_bundle to that CA's certificate (PEM)"
        )
    detail = getattr(exc.os_error, "reason", None) or str(exc.os_error)
    return f"the TLS handshake with {where} failed ({detail}): does it serve HTTPS on that port?"
