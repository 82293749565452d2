"""The TLS settings of an agent's connection: verify against the system's CAs, an agent's own
CA bundle (``tls.ca_bundle``), or not at all (``tls.verify: false``, with one warning per agent).

The CA bundle is read by amtflow, bounded and without blocking (``bounded``), and handed to
OpenSSL as data: OpenSSL opening it by path would wait forever, in C, on a FIFO put there.
"""

from __future__ import annotations

import re
import ssl

from amtflow import report
from amtflow.bounded import NotReadable, read_bounded
from amtflow.errors import AmtError
from amtflow.model import Agent

MAX_CA_BUNDLE_BYTES = 16 * 1024 * 1024  # the system's whole bundle is about 200 KiB

_warned_unverified: set[str] = set()


def tls_context(agent: Agent, base_url: str) -> ssl.SSLContext | bool:
    """What aiohttp's ``ssl=`` gets for the calls to ``agent`` at ``base_url``."""
    tls = agent.tls
    if not base_url.lower().startswith("https:"):
        return True
    if not tls.verify:
        if agent.name not in _warned_unverified:
            _warned_unverified.add(agent.name)
            report.warning(f"agent {agent.name}: TLS certificates are not verified")
        return False
    if tls.ca_bundle:
        return ca_context(tls.ca_bundle, agent.name)
    # An explicit verifying context: aiohttp 3.9 took ``ssl=True`` for "no opinion" and
    # let a self-signed certificate through (tests/reliability/test_files_tls.py).
    return ssl.create_default_context()


def ca_context(path: str, agent: str) -> ssl.SSLContext:
    """A verifying context that trusts the certificates of the PEM file at ``path``."""
    try:
        blocks = _PEM_CERTIFICATE.findall(read_bounded(path, MAX_CA_BUNDLE_BYTES))
        if not blocks:
            reason = "no PEM certificate in it"
        else:  # only the certificates: a bundle's comments may be in any encoding
            return ssl.create_default_context(cadata=b"\n".join(blocks).decode("ascii"))
    except NotReadable as exc:
        reason = exc.why if not exc.size else f"over {MAX_CA_BUNDLE_BYTES >> 20} MiB"
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
    raise AmtError(f"tls.ca_bundle {path} cannot be used ({reason})", agent=agent)


_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END CERTIFICATE-----"
)
