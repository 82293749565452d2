"""The one error tree of amtflow.

Every error a user can cause or meet is an ``AmtflowError``; the CLI's single handler prints its
message on one line and exits with its ``exit_status``. Library errors (yaml, jsonschema, aiohttp,
sqlite3) are wrapped where they first appear and never leak past that module.

    AmtflowError                      exit 1
    ├── UsageError                    exit 2   bad options or arguments
    ├── DefinitionError               exit 2   definitions that do not validate (carries diagnostics)
    ├── SecretError                   exit 2   a password's env var or file is missing or unreadable
    ├── StateError                    exit 2   the state dir is unusable, a run is locked or unknown
    │   └── RunLeftUnfinished         exit 75  the journal failed mid-run: resume the run later
    ├── AmtError                      exit 1   talking to an AMT Batch Server failed
    │   ├── AuthenticationError                wrong credentials, or a second 401 (code 24)
    │   ├── ServerUnavailable                  retry budget spent on transient faults (code 23)
    │   ├── RequestRejected                    400: the server said the request is malformed
    │   ├── NotFound                           404: unknown batch request id or application
    │   ├── Conflict                           409: the action does not fit the job's state
    │   └── ProtocolError                      an answer that breaks the contract (wrong types...)
    └── Interrupted                   exit 130 (SIGINT) / 143 (SIGTERM)

Messages never contain a secret: no password, no token.
"""

from __future__ import annotations

import signal


class AmtflowError(Exception):
    """Base of every error amtflow reports to its user."""

    exit_status = 1


class UsageError(AmtflowError):
    """Bad command-line options or arguments."""

    exit_status = 2


class DefinitionError(AmtflowError):
    """Definitions that do not load or validate.

    ``diagnostics`` holds every problem found (objects with ``location``, ``severity``,
    ``message`` and ``rule``), so that a caller can print them all at once.
    """

    exit_status = 2

    def __init__(self, message: str, diagnostics: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics


class SecretError(AmtflowError):
    """A batch user's password cannot be read (env var unset, file missing)."""

    exit_status = 2


class StateError(AmtflowError):
    """The state dir or journal cannot be used, or a run is locked or unknown."""

    exit_status = 2


class RunLeftUnfinished(StateError):
    """The journal could not be written during a run (a full disk): the run is left to resume.

    Exit 75 (EX_TEMPFAIL), not 2: a systemd unit or a Kubernetes Job takes 1 and 2 as final,
    and this run is not over: its runner stopped, so the same command resumes it once the
    state dir can be written again.
    """

    exit_status = 75


class AmtError(AmtflowError):
    """Talking to an AMT Batch Server failed.

    ``completion_code`` is the code a job failed by this error ends with (docs/amt-api.md, Errors).
    """

    completion_code = 23

    def __init__(self, message: str, *, agent: str | None = None) -> None:
        super().__init__(f"agent {agent}: {message}" if agent else message)
        self.agent = agent


class AuthenticationError(AmtError):
    """Credentials refused, or a token refused twice in a row."""

    completion_code = 24


class ServerUnavailable(AmtError):
    """Transient faults (5xx, 429, timeouts, resets, bad bodies) outlasted the retry budget."""

    completion_code = 23


class RequestRejected(AmtError):
    """The server answered 400: the request is malformed. Never retried."""

    completion_code = 19


class NotFound(AmtError):
    """The server answered 404: unknown batch request id or application."""

    completion_code = 19


class Conflict(AmtError):
    """The server answered 409: the action does not fit the job's state (kill a finished job)."""

    completion_code = 19


class ProtocolError(AmtError):
    """An answer that breaks the contract of docs/amt-api.md (missing fields, wrong types)."""

    completion_code = 23


class Interrupted(AmtflowError):
    """The run was interrupted by a signal; exits 128 + the signal number."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum
        self.exit_status = 128 + signum
