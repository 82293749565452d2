"""A small file a user names (a password, a CA bundle, a YAML file), read whole and safely.

It is opened without blocking and checked on the open descriptor, so what is read is what was
checked: a folder, FIFO, socket or device is refused (a FIFO nobody writes to would hang an
unattended run, a device such as /dev/zero never ends). It is read up to a limit, however it
grows meanwhile. Each caller words the refusal in its own error (``NotReadable.why``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

FOLDER = "it is a folder, not a file"
NOT_REGULAR = "it is not a regular file (a FIFO, socket or device)"


class NotReadable(Exception):
    """``why`` a file is not read: ``FOLDER``, ``NOT_REGULAR`` or "too large"; ``size``: the
    bytes seen when it is too large (at least the limit + 1)."""

    def __init__(self, why: str, size: int = 0) -> None:
        super().__init__(why)
        self.why, self.size = why, size


def read_bounded(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of the regular file at ``path``, at most ``max_bytes``; ``NotReadable`` for a
    folder, a FIFO, socket or device, or a larger file; ``OSError`` as ``os.open`` raises it."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        status = os.fstat(fd)
        if stat.S_ISDIR(status.st_mode):
            raise NotReadable(FOLDER)
        if not stat.S_ISREG(status.st_mode):
            raise NotReadable(NOT_REGULAR)
        chunks, read, size = [], 0, status.st_size
        while size <= max_bytes and (chunk := os.read(fd, max_bytes + 1 - read)):
            chunks.append(chunk)
            read += len(chunk)
            size = max(size, read)
        if size > max_bytes:
            raise NotReadable("too large", size)
        return b"".join(chunks)
    finally:
        os.close(fd)
