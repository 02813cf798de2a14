"""Typed errors of the Klaviyo client.

Every error carries the HTTP method, the path (never the query string, never the API key) and,
when Klaviyo answered, the status code and the JSON:API error details. Email addresses that
Klaviyo echoes in error details are masked before they reach a message.

    KlaviyoError                    (a DestinationError)
    ├── KlaviyoConfigError          the client cannot be built (e.g. plain http to a remote host)
    ├── JobTimeoutError             bulk import jobs did not finish in the time allowed
    ├── WaitInterrupted             a stop was requested while the client waited
    ├── TransportError              no usable answer: connection refused, reset, timed out
    │   └── ResponseLostError       the request may have been processed but its answer was lost
    └── KlaviyoHTTPError            Klaviyo answered with an error status
        ├── AuthError               401 / 403: bad key, revoked key or missing scope
        ├── NotFoundError           404: no such list, job or account (a DestinationNotFound)
        ├── ValidationError         400 / 409 / 415 / 422: the request was refused as malformed
        ├── RateLimitedError        429 still returned after every retry
        └── ServerError             5xx (502 is never retried; 503/504/524 are, a bounded
                                    number, and never for a create)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.emails import mask_text
from reconciler.errors import DestinationError, DestinationNotFound


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of a JSON:API ``errors`` array; its server texts are masked on creation."""

    status: int | None = None
    code: str = ""
    title: str = ""
    detail: str = ""
    pointer: str | None = None
    parameter: str | None = None

    def __post_init__(self) -> None:
        for name in ("code", "title", "detail"):
            object.__setattr__(self, name, mask_text(getattr(self, name)))

    def describe(self) -> str:
        text = self.detail or self.title or self.code or "error"
        where = self.pointer or self.parameter
        return f"{text} (at {where})" if where else text


class KlaviyoError(DestinationError):
    """Root of every error raised by the Klaviyo client."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        hint: str = "",
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.hint = hint
        prefix = f"{method} {path}: " if method else ""
        super().__init__(prefix + mask_text(message))


class KlaviyoConfigError(KlaviyoError):
    """The client was given a setting it cannot use (base URL, key, time scale)."""


class TransportError(KlaviyoError):
    """The request got no usable answer (connection refused or reset, timeout)."""


class ResponseLostError(TransportError):
    """The request was sent but its answer was lost: it may have been processed."""


class KlaviyoHTTPError(KlaviyoError):
    """Klaviyo answered with an error status; ``errors`` holds the JSON:API details."""

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status: int,
        errors: Sequence[ErrorDetail] = (),
        hint: str = "",
    ) -> None:
        self.errors = tuple(errors)
        details = "; ".join(e.describe() for e in self.errors[:5])
        more = f" (+{len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        text = f"{status} {message}" + (f": {details}{more}" if details else "")
        super().__init__(text, method=method, path=path, status=status, hint=hint)


class AuthError(KlaviyoHTTPError):
    """401/403: the key is wrong, revoked, or lacks a scope the call needs."""


class NotFoundError(KlaviyoHTTPError, DestinationNotFound):
    """404: the list, job or account does not exist for this key."""


class ValidationError(KlaviyoHTTPError):
    """400/409/415/422: Klaviyo refused the request body or parameters."""


class RateLimitedError(KlaviyoHTTPError):
    """429 on every attempt: the account's quota is used up by someone else too."""


class ServerError(KlaviyoHTTPError):
    """5xx from Klaviyo."""


_HINTS = {
    401: "check that the connection's API key variable holds a valid private API key",
    403: "give the private API key the scopes lists:read/write and profiles:read/write",
    404: "check the list id in the export (6 letters and digits, e.g. Y6nRLr)",
    429: "another job is using this account's rate limit; run again later",
}


def error_for_status(
    method: str, path: str, status: int, errors: Sequence[ErrorDetail]
) -> KlaviyoHTTPError:
    """The typed error for an HTTP error ``status``."""
    cls: type[KlaviyoHTTPError]
    if status in (401, 403):
        cls, message = AuthError, "unauthorized" if status == 401 else "forbidden"
    elif status == 404:
        cls, message = NotFoundError, "not found"
    elif status == 429:
        cls, message = RateLimitedError, "rate limited"
    elif status >= 500:
        cls, message = ServerError, "server error"
    else:
        cls, message = ValidationError, "request refused"
    hint = _HINTS.get(status, "")
    return cls(message, method=method, path=path, status=status, errors=errors, hint=hint)


class JobTimeoutError(KlaviyoError):
    """Bulk import jobs did not finish within the time allowed; ``job_ids`` names them."""

    def __init__(self, message: str, *, job_ids: Sequence[str] = (), hint: str = "") -> None:
        self.job_ids = tuple(job_ids)
        super().__init__(message, hint=hint)


class WaitInterrupted(KlaviyoError):
    """A stop was requested while the client was waiting (pacing, backoff, Retry-After): the
    request it was waiting to send was not sent."""
