"""The one error tree of calctl, and the exit codes it maps to.

::

    CalctlError                      (exit 70 INTERNAL unless a subclass says otherwise)
    ├── FindingsError   exit 1  FINDINGS  unhealthy, lint problems, --check failed,
    │                                     patch refused or rolled back
    ├── UsageError      exit 2  USAGE     bad flags, bad config, invalid input document
    │   ├── ConfigError                   a setting is wrong (file, key and line named)
    │   └── DocumentError                 a JSON document failed validation (field named)
    ├── StateError      exit 3  STATE     locked, corrupt, missing or unwritable state
    │   └── LockedError                   another process holds an exclusive lock
    ├── ExternalError   exit 4  EXTERNAL  database, HTTP peer or git unavailable
    └── InternalError   exit 70 INTERNAL  a bug in calctl

Core code raises these (``raise ... from exc`` at adapter boundaries); only
``calctl.cli.boundary`` turns one into a message and an exit code. ``code`` is a short
stable string from a closed set, used in the ``error`` JSON document.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, the same for every command."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    STATE = 3
    EXTERNAL = 4
    INTERNAL = 70


class CalctlError(Exception):
    """Base of every error calctl reports on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL
    default_code: str = "internal"

    def __init__(self, message: str, *, hint: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code or self.default_code


class FindingsError(CalctlError):
    """The command ran and found problems (exit 1)."""

    exit_code = ExitCode.FINDINGS
    default_code = "findings"


class UsageError(CalctlError):
    """The caller asked for something invalid (exit 2)."""

    exit_code = ExitCode.USAGE
    default_code = "usage"


class ConfigError(UsageError):
    """A configuration file, variable or flag is wrong."""

    default_code = "config"


class DocumentError(UsageError):
    """An input JSON document is malformed or of the wrong kind."""

    default_code = "document"


class StateError(CalctlError):
    """The state directory or store is locked, corrupt, missing or unwritable (exit 3)."""

    exit_code = ExitCode.STATE
    default_code = "state"


class LockedError(StateError):
    """Another process holds the lock for an exclusive activity."""

    default_code = "locked"


class ExternalError(CalctlError):
    """A database, HTTP peer, git or a subprocess is unavailable (exit 4)."""

    exit_code = ExitCode.EXTERNAL
    default_code = "external"


class InternalError(CalctlError):
    """A bug in calctl (exit 70)."""

    exit_code = ExitCode.INTERNAL
    default_code = "internal"
