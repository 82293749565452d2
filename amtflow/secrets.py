"""Reading a batch user's password from where its definition says: an env var or a file.

Passwords are read only when needed (at logon) and never kept in a model, a repr or a message.
"""

from __future__ import annotations

import os

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
