"""One self-contained HTML file: the template, its inline style and script, the data, a CSP.

Everything from outside (job names, reasons, log lines) reaches the page one of two ways: as text
escaped by ``text()`` in the static HTML, or inside the JSON data island, where ``<``, ``>`` and
``&`` are written as ``\\u003c``-style escapes so that nothing in it can close the ``<script>``
element; the page's script renders it with ``textContent`` only. The Content-Security-Policy
allows no network at all and only this page's own style and script (by their hashes), so even a
mistake in the escaping could neither run a script nor fetch anything.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path

from amtflow.errors import UsageError

_SLOT = re.compile(r"@@([A-Z]+)@@")
_JSON_UNSAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def text(value: object) -> str:
    """``value`` as HTML text or attribute value: every markup character escaped."""
    return html.escape(str(value), quote=True)


def json_island(data: object) -> str:
    """``data`` as JSON that is safe inside ``<script type="application/json">``."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False).translate(_JSON_UNSAFE)


@cache
def asset(name: str) -> str:
    """A file of ``assets/`` (the template, the style sheet, the script)."""
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


def content_security_policy(style: str, script: str) -> str:
    """No network, no plugins, no forms; only this style sheet and this script may apply."""
    return (
        "default-src 'none'; "
        f"style-src '{_sha256(style)}'; "
        f"script-src '{_sha256(script)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def _sha256(source: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()


def document(title: str, body: str, data: object, *, script: str = "report.js") -> str:
    """The whole page: the template with its slots filled in one pass.

    One pass means text put into a slot is never searched for slots again.
    """
    style, code = asset("report.css"), asset(script)
    slots = {
        "TITLE": text(title),
        "CSP": text(content_security_policy(style, code)),
        "STYLE": style,
        "BODY": body,
        "DATA": json_island(data),
        "SCRIPT": code,
    }
    return _SLOT.sub(lambda m: slots[m.group(1)], asset("page.html"))


def write_page(path: Path, page: str) -> None:
    """Write ``page`` to ``path`` atomically, private to the user (it holds job log text).

    Missing folders are made, so a CI job can name a file under its artifacts folder.
    """
    target = path.absolute()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise UsageError(f"report {path}: cannot write it: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(page)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"report {path}: cannot write it: {exc.strerror}") from exc
