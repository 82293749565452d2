"""Where a job log lives: ``<log dir>/<schedule>/<YYYY-MM-DD>/<job>.<batchRequestId>.log``.

Every component is sanitised so that nothing is ever written outside the log dir, whatever a
schedule or job is called, on POSIX or Windows. A name that had to be changed (or shortened) gets
``~`` and a short hash of the original appended; ``~`` is never kept from an original name, so
distinct names always give distinct components.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
import unicodedata
from pathlib import Path

from amtflow.errors import StateError
from amtflow.filenames import WINDOWS_DEVICES
from amtflow.state.files import check_owned

MAX_COMPONENT_BYTES = 100  # leaves room for ".<batchRequestId>.log" under the usual 255-byte limit
_HASH_LENGTH = 8
_SAFE_PUNCTUATION = frozenset("-_.+=@,$# ")
# ASCII letters, digits and safe punctuation, no space, no dot at either end, not too long:
# unchanged by ``safe_component`` unless a Windows device name (checked beside it)
_PLAIN = re.compile(
    rf"[A-Za-z0-9_+=@,$#-](?:[A-Za-z0-9_.+=@,$#-]{{0,{MAX_COMPONENT_BYTES - 2}}}"
    r"[A-Za-z0-9_+=@,$#-])?\Z"
)


def default_log_dir(environ: dict[str, str] | None = None) -> Path:
    """The log dir when no ``--log-dir`` is given: ``$AMTFLOW_LOG_DIR`` or ``.amtflow/logs``."""
    env = os.environ if environ is None else environ
    return Path(env.get("AMTFLOW_LOG_DIR") or ".amtflow/logs")


def log_path(
    log_dir: Path, schedule: str, date: dt.date, job: str, batch_request_id: int | str
) -> Path:
    """The log file of one job run; always inside ``log_dir``, even through symlinks.

    Raises ``StateError`` if a symlink planted inside the log dir would lead outside it.
    """
    file_name = f"{safe_component(job)}.{safe_component(str(batch_request_id))}.log"
    folder = _date_folder(os.fspath(log_dir), safe_component(schedule), date.isoformat())
    return folder / file_name  # a safe name in a checked folder; the file opens O_NOFOLLOW


@functools.lru_cache(maxsize=256)
def _date_folder(log_dir_text: str, schedule: str, date: str) -> Path:
    """The folder of a schedule date, checked once per process (a run writes many logs there)."""
    log_dir = Path(log_dir_text)
    folder = log_dir / schedule / date
    ensure_inside(log_dir, folder)
    for checked in (log_dir, log_dir / schedule, folder):
        check_owned(checked, "log dir" if checked == log_dir else "log folder")
    return folder


def ensure_inside(log_dir: Path, path: Path) -> None:
    """Raise ``StateError`` unless ``path``, symlinks resolved, lies inside ``log_dir``."""
    root = Path(log_dir).resolve()
    if not Path(path).resolve().is_relative_to(root):
        raise StateError(f"job log {path} would be written outside the log dir {log_dir}")


def safe_component(name: str) -> str:
    """One path component made safe; unchanged if it already was."""
    if _PLAIN.match(name) and name.split(".", 1)[0].upper() not in WINDOWS_DEVICES:
        return name  # the common name (``REPORTTEST01``, ``4280``), without the work below
    cleaned = _strip_edges("".join(_safe_char(ch) for ch in name))
    if not cleaned or _reserved(cleaned):
        cleaned = "_" + cleaned
    if cleaned == name and len(name.encode()) <= MAX_COMPONENT_BYTES:
        return name
    return _with_hash(cleaned, name)


def _safe_char(ch: str) -> str:
    if ch in _SAFE_PUNCTUATION or (ch.isalnum() and ch.isprintable()):
        return ch
    return "_"


def _strip_edges(name: str) -> str:
    """No leading dot (hidden, ``.``, ``..``), no edge spaces, no trailing dot (Windows)."""
    return name.strip(" ").lstrip(".").rstrip(". ")


def _reserved(name: str) -> bool:
    stem = unicodedata.normalize("NFKC", name).split(".", 1)[0].rstrip(" ").upper()
    return stem in WINDOWS_DEVICES


def _with_hash(cleaned: str, original: str) -> str:
    digest = hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_LENGTH]
    room = MAX_COMPONENT_BYTES - _HASH_LENGTH - 1
    head = cleaned.encode()[:room].decode(errors="ignore")
    return f"{head}~{digest}"
