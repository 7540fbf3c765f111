"""The authorization server's HTTP face: token endpoint, JWKS and RFC 8414 metadata."""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any
from urllib.parse import unquote

from authlib.oauth2 import OAuth2Error
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.kit.clock import utcnow
from broker.kit.db import SessionDep
from broker.kit.metrics import instruments
from broker.kit.problems import Unauthorized
from broker.kit.ratelimit import Rate, RateLimiter
from broker.kit.tracing import follow_request
from broker.oauth import revocation
from broker.oauth.clients import find_client_record
from broker.oauth.documented import TOKEN_CHECK_FORM, TOKEN_FORM, oauth_errors
from broker.oauth.introspection import introspect
from broker.oauth.keys import ALGORITHM
from broker.oauth.principal import decode_access_token
from broker.oauth.scopes import DATASET_SCOPE, FIXED_SCOPES, Scope, parse_scope
from broker.oauth.server import (
    TOKEN_AUTH_METHODS,
    AuthlibClient,
    BrokerAuthorizationServer,
    StarletteOAuth2Request,
    preloaded_client,
)

router = APIRouter(tags=["oauth"])

AUTH_FAILURES = "auth-failures"


def _too_many(retry_after_s: int, why: str) -> JSONResponse:
    """A 429 at the OAuth endpoints stays OAuth-shaped (RFC 6749 section 5.2: `error`,
    `error_description`), as their other errors are, so OAuth client libraries report it; the
    status and `Retry-After` say the same as the JSON API's `rate-limited` problem. RFC 6749
    defines no code for it, hence `too_many_requests` (`slow_down` means "poll less often" in the
    device flow, a different thing)."""
    return JSONResponse(
        {"error": "too_many_requests", "error_description": why},
        status_code=429,
        headers={"Retry-After": str(retry_after_s), "Cache-Control": "no-store"},
    )


def _callers(request: Request, client_id: str | None) -> list[tuple[str, str]]:
    """Who failed authentications are counted against, with the limit for each."""
    settings = request.app.state.settings
    callers = [(f"client:{client_id}", settings.auth_failure_limit)] if client_id else []
    if request.client is not None and request.client.host:
        callers.append((f"address:{request.client.host}", settings.auth_failure_limit_address))
    return callers


async def _refused(
    request: Request, client_id: str | None, bucket: str, rate: str
) -> Response | None:
    """Before authlib looks at the secret: a locked-out caller, or a client over its rate.

    Both are keyed by the client id the caller claims, so someone who knows a client id can use
    up that client's allowance; a client that caches its tokens for their lifetime hardly
    notices, and the alternative (counting only after the secret is checked) lets guessing run
    unthrottled. A failed authentication is slowed by the lockout alone, not by a sleep: a sleep
    holds a connection per failure (helping a flood) and does nothing against parallel guessing.
    """
    limiter: RateLimiter = request.app.state.rate_limiter
    callers = [who for who, _ in _callers(request, client_id)]
    locked, wait = await limiter.admit(AUTH_FAILURES, callers, bucket, client_id, Rate.parse(rate))
    if locked:
        return _too_many(locked, "too many failed client authentications; retry later")
    if wait:
        return _too_many(wait, f"more than {rate} requests for this client; retry later")
    return None


async def _count_failure(request: Request, client_id: str | None) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    settings = request.app.state.settings
    for who, limit in _callers(request, client_id):
        await limiter.failed(
            AUTH_FAILURES,
            who,
            Rate.parse(limit),
            lockout_s=settings.auth_lockout_seconds,
            lockout_max_s=settings.auth_lockout_max_seconds,
        )


def _is_invalid_client(response: Response) -> bool:
    if response.status_code not in (400, 401):
        return False
    try:
        return bool(json.loads(bytes(response.body)).get("error") == "invalid_client")
    except (ValueError, AttributeError):
        return False


def _client_id_of(authorization: str | None, form: dict[str, str]) -> str | None:
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id = unquote(decoded.partition(":")[0])
    else:
        client_id = form.get("client_id", "")
    # NUL cannot be in a client id, and PostgreSQL refuses to look one up: an unknown client
    return client_id if client_id and "\x00" not in client_id else None


@router.post(
    "/oauth/token",
    summary="Issue an access token (client credentials)",
    responses=oauth_errors(400, 401, 429),
    openapi_extra=TOKEN_FORM,
)
async def issue_token(request: Request, session: SessionDep) -> Response:
    form = {key: str(value) for key, value in (await request.form()).items()}
    client_id = _client_id_of(request.headers.get("authorization"), form)
    if refusal := await _refused(
        request, client_id, "token", request.app.state.settings.rate_limit_token
    ):
        return refusal
    datasets = [
        m["dataset_id"] for s in parse_scope(form.get("scope")) if (m := DATASET_SCOPE.match(s))
    ]
    record = (
        await find_client_record(session, client_id, dataset_ids=datasets) if client_id else None
    )
    if record is not None and datasets and (grant := record.grants.get(datasets[0])):
        follow_request(grant.request_id, *grant.request_trace)  # a grant token: part of its story
    server: BrokerAuthorizationServer = request.app.state.authorization_server
    oauth_request = StarletteOAuth2Request(request.method, str(request.url), request.headers, form)
    with preloaded_client(record):
        response: Response = server.create_token_response(oauth_request)
    if _is_invalid_client(response):
        await _count_failure(request, client_id)
    answer = json.loads(bytes(response.body))
    instruments().tokens.add(1, {"outcome": "issued" if response.status_code == 200 else "refused"})
    await audit.record(
        session,
        "token.issued" if response.status_code == 200 else "token.refused",
        actor=Actor(record.organisation_id if record else None, client_id),
        subject=client_id,
        scope=answer.get("scope", form.get("scope")),
        error=answer.get("error"),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def _authenticated_client(
    request: Request, session: AsyncSession, form: dict[str, str], endpoint: str, rate: str
) -> AuthlibClient | Response:
    """Client authentication by authlib, as at the token endpoint; an error response if it fails."""
    client_id = _client_id_of(request.headers.get("authorization"), form)
    if refusal := await _refused(request, client_id, endpoint, rate):
        return refusal
    record = await find_client_record(session, client_id) if client_id else None
    server: BrokerAuthorizationServer = request.app.state.authorization_server
    oauth_request = StarletteOAuth2Request(request.method, str(request.url), request.headers, form)
    with preloaded_client(record):
        try:
            client: AuthlibClient = server.authenticate_client(
                oauth_request, TOKEN_AUTH_METHODS, endpoint=endpoint
            )
        except OAuth2Error as error:
            if error.error == "invalid_client":
                await _count_failure(request, client_id)
            response: Response = server.handle_error_response(oauth_request, error)
            return response
    return client


@router.post(
    "/oauth/introspect",
    summary="RFC 7662: is a token active, and what does it grant",
    responses=oauth_errors(400, 401, 403, 429),
    openapi_extra=TOKEN_CHECK_FORM,
)
async def introspect_token(request: Request, session: SessionDep) -> Response:
    form = {key: str(value) for key, value in (await request.form()).items()}
    client = await _authenticated_client(
        request, session, form, "introspection", request.app.state.settings.rate_limit_introspect
    )
    if isinstance(client, Response):
        return client
    if Scope.tokens_introspect.value not in parse_scope(client.record.scope):
        return JSONResponse(
            {"error": "insufficient_scope", "error_description": "needs 'tokens:introspect'"},
            status_code=403,
        )
    state = request.app.state
    answer = await introspect(
        form.get("token", ""),
        session=session,
        redis=state.redis,
        keyring=state.keyring,
        issuer=state.settings.issuer,
        now=utcnow(),
    )
    instruments().introspections.add(1, {"active": str(answer["active"]).lower()})
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


@router.post(
    "/oauth/revoke",
    summary="RFC 7009: revoke one of your own access tokens",
    response_class=Response,  # 200 with no body
    responses=oauth_errors(400, 401, 429),
    openapi_extra=TOKEN_CHECK_FORM,
)
async def revoke_token(request: Request, session: SessionDep) -> Response:
    form = {key: str(value) for key, value in (await request.form()).items()}
    client = await _authenticated_client(
        request, session, form, "revocation", request.app.state.settings.rate_limit_token
    )
    if isinstance(client, Response):
        return client
    state = request.app.state
    try:
        claims = decode_access_token(form.get("token", ""), state.keyring, state.settings.issuer)
    except Unauthorized:
        return Response(status_code=200)  # RFC 7009: an invalid token needs no revoking
    if claims["client_id"] == client.get_client_id() and state.redis is not None:
        await audit.record(
            session,
            "token.revoked",
            actor=Actor(client.record.organisation_id, client.get_client_id()),
            subject=str(claims["jti"]),
        )
        await revocation.revoke(
            state.redis, str(claims["jti"]), seconds_left=int(claims["exp"]) - int(time.time())
        )
    return Response(status_code=200)


@router.get("/.well-known/jwks.json", summary="Public keys that sign access tokens")
async def jwks(request: Request) -> JSONResponse:
    return JSONResponse(
        request.app.state.keyring.public_jwks(),
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/.well-known/oauth-authorization-server", summary="RFC 8414 metadata")
async def metadata(request: Request) -> dict[str, Any]:
    issuer: str = request.app.state.settings.issuer.rstrip("/")
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "scopes_supported": [*sorted(FIXED_SCOPES), "dataset:{dataset_id}:read"],
        "response_types_supported": [],
        "token_endpoint_auth_signing_alg_values_supported": [ALGORITHM],
        "authorization_details_types_supported": ["data_grant"],
    }
