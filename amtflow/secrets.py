"""Reading a batch user's password from where its definition says: an env var or a file; and
finding secrets in text, to mask them.

Passwords are read only when needed (at logon) and never kept in a model, a repr or a message.

Masking: a secret of ``MIN_SECRET_CHARS`` or more is masked wherever it appears. A shorter one
("abc", "42") is masked where it stands as a whole token, not touching a letter or digit: hidden
in ``password=abc`` and ``pw abc.``, left alone inside ``abcdef`` and ``x42`` (masking every "a"
or "42" in a log would destroy it, and hides nothing that short). A blank value is not masked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable

from amtflow.bounded import NotReadable, read_bounded
from amtflow.errors import SecretError
from amtflow.model import SecretRef

MAX_SECRET_FILE_BYTES = 64 * 1024  # far above any password or URL; a bigger file is not one


def read_secret(ref: SecretRef, owner: str) -> str:
    """The secret ``ref`` points at; ``owner`` names who needs it (for messages).

    Raises ``SecretError`` when the env var is unset or empty, or the file is missing,
    unreadable, empty, over 64 KiB or not a regular file (a FIFO or a device). One trailing
    newline (``\\n`` or ``\\r\\n``) is stripped from a file.
    """
    if ref.env:
        return _from_env(ref.env, owner)
    if ref.file:
        return _from_file(ref.file, owner)
    raise SecretError(f"{owner}: no password source (set 'env' or 'file')")


def _from_env(name: str, owner: str) -> str:
    value = os.environ.get(name)
    if value is None:
        raise SecretError(f"{owner}: environment variable {name} is not set")
    if not value:
        raise SecretError(f"{owner}: environment variable {name} is empty")
    return value


def _from_file(path: str, owner: str) -> str:
    where = f"{owner}: password file {path}"
    try:
        data = read_bounded(path, MAX_SECRET_FILE_BYTES)
    except FileNotFoundError:
        raise SecretError(f"{where} does not exist") from None
    except NotReadable as exc:  # a password is read again at each logon: a pipe cannot
        if exc.size:
            raise SecretError(f"{where} is larger than 64 KiB: not a password") from None
        raise SecretError(f"{where} cannot be read: {exc.why}") from None
    except OSError as exc:
        raise SecretError(f"{where} cannot be read ({exc.strerror or exc})") from None
    try:
        value = data.decode("utf-8").removesuffix("\n").removesuffix("\r")
    except UnicodeDecodeError:
        raise SecretError(f"{where} cannot be read (not UTF-8 text)") from None
    if not value:
        raise SecretError(f"{where} is empty")
    return value


MIN_SECRET_CHARS = 4  # shorter secrets are masked only as whole tokens (see above)


def secret_pattern(secret: str) -> str:
    """A regular expression that finds ``secret`` in text, as the module docstring says."""
    pattern = re.escape(secret)
    if len(secret) >= MIN_SECRET_CHARS:
        return pattern
    before = r"(?<![^\W_])" if secret[0].isalnum() else ""
    after = r"(?![^\W_])" if secret[-1].isalnum() else ""
    return before + pattern + after


def masking(secrets: Iterable[str], mask: str) -> Callable[[str], str]:
    """A function that writes each of ``secrets`` (the longest first) in a text as ``mask``."""
    ordered = sorted({secret for secret in secrets if secret.strip()}, key=len, reverse=True)
    if not ordered:
        return lambda text: text
    found = re.compile("|".join(map(secret_pattern, ordered)))
    return lambda text: found.sub(lambda _: mask, text)
