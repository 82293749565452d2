"""What a path on disk is, asked without opening it: FIFOs and devices would block or never end.

Every way a path can be unusable (missing, a folder, a FIFO, a device, a symlink loop, a name
too long or holding NUL) becomes a short reason, never an exception.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_ERRNO_REASONS = {
    errno.ENOENT: "not found",
    errno.ELOOP: "a symlink loop",
    errno.ENAMETOOLONG: "a name too long for the file system",
    errno.EACCES: "not readable (permission denied)",
    errno.ENOTDIR: "not found (a part of it is not a folder)",
}


def resolve(path: Path) -> Path | str:
    """``path`` absolute with symlinks resolved, or the reason it cannot be."""
    try:
        return Path(os.path.normpath(path)).resolve()
    except RuntimeError:  # Python < 3.13 raises this for a symlink loop
        return "a symlink loop"
    except ValueError:
        return "a name holding a NUL character"
    except OSError as exc:
        return _reason(exc)


def unreadable(path: Path) -> str | None:
    """Why ``path`` is not a regular file to read as definitions; None when it is one."""
    try:
        mode = path.stat().st_mode
    except ValueError:
        return "a name holding a NUL character"
    except OSError as exc:
        return _reason(exc)
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    if not stat.S_ISREG(mode):
        return "not a regular file (a FIFO, socket or device)"
    return None


def _reason(exc: OSError) -> str:
    return _ERRNO_REASONS.get(exc.errno or 0, exc.strerror or type(exc).__name__)
