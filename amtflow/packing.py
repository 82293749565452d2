"""How the journal keeps a run's recorded plan: its JSON, compressed as it is written.

A plan's JSON repeats the same keys for every job (about 800 bytes a job); zlib makes it about
13, and compressing the text piece by piece means a 100,000-job plan is never held whole: not
as one tree of dicts, not as one 80 MB string, not as SQLite's copy of that string (it was a
~300 MB spike at the start of such a run). A plan recorded as text (amtflow before 0.x's
issue 16, or written by hand) still reads as it is.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

LEVEL = 1  # 10,000 jobs: 155 KB in 29 ms; zlib's default 6 makes 132 KB of it in 54 ms


def pack(chunks: Iterable[str]) -> bytes:
    """The UTF-8 text of ``chunks``, joined and compressed, one chunk at a time."""
    compressor = zlib.compressobj(LEVEL)
    packed = [compressor.compress(chunk.encode("utf-8")) for chunk in chunks]
    packed.append(compressor.flush())
    return b"".join(packed)


def unpack(stored: str | bytes) -> str:
    """The text ``pack`` made (or text stored as it is); ValueError if it is damaged."""
    if isinstance(stored, str):
        return stored
    try:
        return zlib.decompress(stored).decode("utf-8")
    except zlib.error as exc:
        raise ValueError(f"damaged compressed plan ({exc})") from None
