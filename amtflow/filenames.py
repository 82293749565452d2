"""What a file name may not be, on any system amtflow writes to: one table for the definitions'
name rules (``definitions/names.py``) and the job logs' file names (``joblog/paths.py``)."""

from __future__ import annotations

WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{device}{n}" for device in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³")}
)
"""Names Windows reserves for devices, whatever the extension (``NUL.txt`` too): COM0 and LPT0
are reserved as well as 1-9 and the superscript digits."""
