"""Loopback ports for tests that run in parallel (pytest-xdist workers share the host's ports)."""

from __future__ import annotations

import socket

_HELD: list[socket.socket] = []


def dead_port() -> int:
    """A loopback port where a connection is refused, and stays refused.

    The socket is bound but never listens, and is held until the worker exits: a port that was
    only probed and closed could be taken by a simulator another worker starts meanwhile.
    """
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    _HELD.append(held)
    return int(held.getsockname()[1])


def free_port() -> int:
    """A loopback port free a moment ago, for a server that cannot bind port 0 itself: whoever
    binds it must try again with another one if it was taken meanwhile."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
