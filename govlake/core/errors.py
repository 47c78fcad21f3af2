"""Error types shared by the engine, the CLI, the console and the DAGs.

Every error says what is wrong, naming the identifier in backticks, and what to do next.
`transient` errors (a download that timed out, a server still starting) may be retried;
terminal ones (bad configuration, a checksum mismatch) must not be.
"""
from __future__ import annotations


class GovlakeError(Exception):
    """Base error. `transient=True` marks failures worth retrying."""

    transient: bool = False
    exit_code: int = 1

    def __init__(self, message: str, *, transient: bool | None = None):
        super().__init__(message)
        if transient is not None:
            self.transient = transient


class ConfigError(GovlakeError):
    """A registry, policy or settings file is invalid."""


class DownloadError(GovlakeError):
    """An artifact could not be fetched or failed its checksum."""


class ServiceError(GovlakeError):
    """A local service could not be started, reached or stopped."""


class ServiceUnavailable(ServiceError):
    """A service govlake needs (Trino, the audit receiver, the console) is not running or not
    answering: always transient, a retry succeeds once it is back."""

    transient = True

    def __init__(self, service: str, url: str, why: str):
        super().__init__(f"cannot reach {service} at {url} ({why}); start it with `govlake up` (its supervisor, when running, restarts "
                         "it by itself: see `govlake status`); a scheduled task failing with this error is retried")
        self.service, self.url = service, url


class JavaError(ServiceError):
    """No suitable JDK was found."""


class IdentityError(GovlakeError):
    """An unknown user or a user without the needed role."""


class QueryError(GovlakeError):
    """A SQL query failed in Trino."""


class InputError(GovlakeError):
    """Input data the command cannot read (wrong encoding, unknown format)."""


class PolicyError(GovlakeError):
    """An action a governance policy refuses (e.g. a column above its contract's level)."""
