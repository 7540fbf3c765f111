"""What the OpenAPI document says of the OAuth endpoints: their form bodies and their answers.

The endpoints read their forms themselves (authlib wants the raw form), so FastAPI cannot see
the fields; these declarations let the document, and the clients and fuzzers built from it,
know them. Errors here are OAuth-shaped JSON (RFC 6749 section 5.2), not problem JSON.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from broker.kit.problem_docs import problem_doc

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


class OAuthError(BaseModel):
    error: str = Field(description="invalid_request, invalid_client, invalid_scope, ...")
    error_description: str | None = None


def form_body(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    """For a route's `openapi_extra`: the form it reads. Client authentication may instead be
    HTTP Basic (`client_secret_basic`), so the client fields are never required."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                FORM_MEDIA_TYPE: {
                    "schema": {
                        "type": "object",
                        "properties": properties,
                        "required": list(required),
                    }
                }
            },
        }
    }


CLIENT_FIELDS: dict[str, Any] = {
    "client_id": {"type": "string"},
    "client_secret": {"type": "string"},
}
TOKEN_FORM = form_body(
    {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "scope": {"type": "string", "description": "space-separated scopes"},
        **CLIENT_FIELDS,
    },
    "grant_type",
)
TOKEN_CHECK_FORM = form_body(
    {
        "token": {"type": "string"},
        "token_type_hint": {"type": "string", "enum": ["access_token"]},
        **CLIENT_FIELDS,
    },
    "token",
)


def oauth_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """For an OAuth endpoint's `responses=`: its OAuth errors, and 503 as everywhere."""
    why = {
        400: "A malformed or refused request (`invalid_request`, `invalid_scope`, ...)",
        401: "Client authentication failed (`invalid_client`)",
        403: "The client lacks the scope this endpoint needs (`insufficient_scope`)",
        429: "Over the client's rate, or locked out after failed authentications "
        "(`too_many_requests`): retry after `Retry-After` seconds",
    }
    errors: dict[int | str, dict[str, Any]] = {
        status: {"model": OAuthError, "description": why[status]} for status in statuses
    }
    return errors | {503: problem_doc(503)}  # the database or Redis is down: problem JSON
