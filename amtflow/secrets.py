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

from amtflow.errors import SecretError
from amtflow.model import SecretRef


def read_secret(ref: SecretRef, owner: str) -> str:
    """The secret ``ref`` points at; ``owner`` names who needs it (for messages).

    Raises ``SecretError`` when the env var is unset or empty, or the file is missing,
    unreadable or empty. One trailing newline (``\\n`` or ``\\r\\n``) is stripped from a file.
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
    try:
        with open(path, encoding="utf-8") as handle:
            value = handle.read()
    except FileNotFoundError:
        raise SecretError(f"{owner}: password file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise SecretError(f"{owner}: password file {path} cannot be read ({reason})") from None
    value = value.removesuffix("\n").removesuffix("\r")
    if not value:
        raise SecretError(f"{owner}: password file {path} is empty")
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
