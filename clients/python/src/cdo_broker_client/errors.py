"""Errors as the broker reports them: RFC 9457 problem JSON, or RFC 6749 errors at /oauth.

Every failed call raises a `BrokerError` subclass chosen by status, carrying the `Problem` (its
`type`, `title`, `detail` and the broker's extensions, such as `field` or `required_scope`), so a
caller can branch on `err.slug` (`"not-shareable"`, `"grant-closed"`, ...) as the broker names it.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError


class Problem(BaseModel):
    """RFC 9457 problem details; extensions are kept as extra attributes (`model_extra`)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = "about:blank"
    title: str = ""
    status: int = 0
    detail: str | None = None
    instance: str | None = None

    @property
    def slug(self) -> str:
        """The last segment of `type`, e.g. `grant-closed`."""
        return self.type.rstrip("/").rsplit("/", 1)[-1]

    @property
    def extensions(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class BrokerError(Exception):
    """A call the broker answered with an error (or that never got an answer: `status` 0)."""

    def __init__(self, problem: Problem, *, retry_after: float | None = None) -> None:
        super().__init__(f"{problem.status} {problem.slug}: {problem.detail or problem.title}")
        self.problem = problem
        self.retry_after = retry_after

    @property
    def status(self) -> int:
        return self.problem.status

    @property
    def slug(self) -> str:
        return self.problem.slug


class Unauthorized(BrokerError):
    """401: the token is missing, invalid, expired or revoked."""


class Forbidden(BrokerError):
    """403: a scope is missing, or the caller may not do this (e.g. `not-grant-authority`)."""


class NotFound(BrokerError):
    """404: nothing with that id that the caller may see."""


class Conflict(BrokerError):
    """409: e.g. the same Idempotency-Key with another body, a conflicting decision."""


class Invalid(BrokerError):
    """400/413/422: the body or a parameter; `problem.extensions.get("field")` names it."""


class RateLimited(BrokerError):
    """429: slow down; `retry_after` seconds."""


class Unavailable(BrokerError):
    """503: a dependency of the broker is down; nothing changed, retry after `retry_after`."""


class ServerError(BrokerError):
    """Any other 5xx."""


class OAuthError(BrokerError):
    """The token endpoint refused (RFC 6749 `error`, e.g. `invalid_scope`, `invalid_client`)."""

    @property
    def error(self) -> str:
        return str(self.problem.extensions.get("error", ""))


class TransportError(BrokerError):
    """No answer: the broker could not be reached, or did not answer in time."""


_BY_STATUS: dict[int, type[BrokerError]] = {
    400: Invalid,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: Invalid,
    422: Invalid,
    429: RateLimited,
    503: Unavailable,
}


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def error_from(response: httpx.Response) -> BrokerError:
    """The exception for an error answer, with its problem (or one made from what came)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error" in body and "type" not in body:  # RFC 6749
        problem = Problem.model_validate(
            {
                "type": f"oauth:{body['error']}",
                "title": str(body["error"]),
                "status": response.status_code,
                "detail": body.get("error_description"),
                "error": body["error"],
            }
        )
        return OAuthError(problem, retry_after=retry_after(response))
    try:
        problem = Problem.model_validate(body | {"status": response.status_code})
    except (ValidationError, TypeError):
        problem = Problem(
            title=response.reason_phrase, status=response.status_code, detail=response.text[:500]
        )
    kind = _BY_STATUS.get(response.status_code) or (
        ServerError if response.status_code >= 500 else BrokerError
    )
    return kind(problem, retry_after=retry_after(response))


def no_answer(exc: httpx.TransportError, url: str) -> TransportError:
    return TransportError(
        Problem(
            title="no answer from the broker", detail=f"{type(exc).__name__}: {exc}", instance=url
        )
    )
