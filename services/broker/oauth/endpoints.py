"""The authorization server's HTTP face: token endpoint, JWKS and RFC 8414 metadata."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from broker.kit.deps import (
    RATE_LIMITER,
    REDIS,
    SETTINGS,
    RedisDep,
    SessionDep,
    SettingsDep,
    sessions_of,
)
from broker.kit.plain_route import PlainRoute
from broker.oauth import introspection, service
from broker.oauth.dependencies import (
    AUTHORIZATION_SERVER,
    CLIENT_CACHE,
    KEYRING,
    STANDING_CACHE,
    KeyRingDep,
)
from broker.oauth.discovery import shared_metadata
from broker.oauth.documented import TOKEN_CHECK_FORM, TOKEN_FORM, oauth_errors
from broker.oauth.keys import ALGORITHM
from broker.oauth.oidc import GRANT_TYPES
from broker.oauth.scopes import FIXED_SCOPES
from broker.oauth.server import TOKEN_AUTH_METHODS
from broker.oauth.service import Call, Gate

router = APIRouter(tags=["oauth"])


def _gate_of(request: Request) -> Gate:
    return Gate(
        SETTINGS.of(request),
        RATE_LIMITER.of(request),
        AUTHORIZATION_SERVER.of(request),
        CLIENT_CACHE.of(request),
        STANDING_CACHE.of(request),
    )


async def _gate(request: Request) -> Gate:  # async: FastAPI runs a `def` one in a worker thread
    # One dependency, not five: each FastAPI solves is CPU on every token and introspection.
    return _gate_of(request)


GateDep = Annotated[Gate, Depends(_gate)]


_URLENCODED = "application/x-www-form-urlencoded"
_FEW_FIELDS = 1000  # Starlette's own limits, beyond which its parser answers 400
_SMALL_FIELD = 1024 * 1024


async def _form(request: Request) -> dict[str, str]:
    """The form's fields, the last of a repeated one. An urlencoded form within Starlette's limits
    (every OAuth call's) is split by the standard library, which reads it as Starlette does
    (each part decoded as Latin-1, then unquoted; a repeated field's last value; blank values
    kept), at a fraction of python-multipart's cost; any other body goes through Starlette."""
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind == _URLENCODED:
        body = await request.body()  # Starlette's parser below reads it from here, once
        if len(body) <= _SMALL_FIELD and body.count(b"&") < _FEW_FIELDS:
            return dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
    return {key: str(value) for key, value in (await request.form()).items()}


async def issue_token(request: Request) -> Response:
    # Reads the app's resources itself, as introspection does: no dependency for FastAPI to
    # solve on every token (none of them shows in the OpenAPI document). A plain route, as
    # introspection's: FastAPI's request handler would do nothing for it but cost CPU.
    form = await _form(request)
    # A client-credentials token writes one audit row, a statement on its own: no transaction
    # (BEGIN and COMMIT are two round trips more), and on its connection, not a session's. A
    # person's code or refresh token is redeemed under a row lock, with its refresh token
    # written in the same transaction.
    sessions = sessions_of(request)
    if form.get("grant_type") == "client_credentials":
        opened = sessions.on_connection()
    else:
        opened = sessions.session()
    async with opened as session:
        return await service.issue_token(Call.of(request, form, _gate_of(request)), session)


router.add_api_route(
    "/oauth/token",
    issue_token,
    methods=["POST"],
    route_class_override=PlainRoute,
    summary="Issue an access token (client credentials; a person's code or refresh token)",
    responses=oauth_errors(400, 401, 429),
    openapi_extra=TOKEN_FORM,
)


async def introspect_token(request: Request) -> Response:
    # The hottest route reads the app's resources itself: FastAPI solving them as dependencies
    # (its cache keys, the calls) was an eighth of an introspection's CPU. None of them shows
    # in the OpenAPI document, so it is the same either way. A plain route (kit/plain_route.py):
    # called without FastAPI's request handler, which it would use nothing of.
    form = await _form(request)
    call = Call.of(request, form, _gate_of(request))
    return await introspection.introspect(
        call, sessions_of(request), KEYRING.of(request), REDIS.of(request)
    )


router.add_api_route(
    "/oauth/introspect",
    introspect_token,
    methods=["POST"],
    route_class_override=PlainRoute,
    summary="RFC 7662: is a token active, and what does it grant",
    responses=oauth_errors(400, 401, 403, 429),
    openapi_extra=TOKEN_CHECK_FORM,
)


@router.post(
    "/oauth/revoke",
    summary="RFC 7009: revoke one of your own access tokens",
    response_class=Response,  # 200 with no body
    responses=oauth_errors(400, 401, 429),
    openapi_extra=TOKEN_CHECK_FORM,
)
async def revoke_token(
    request: Request, session: SessionDep, gate: GateDep, keyring: KeyRingDep, redis: RedisDep
) -> Response:
    form = await _form(request)
    return await service.revoke(Call.of(request, form, gate), session, keyring, redis)


@router.get("/.well-known/jwks.json", summary="Public keys that sign access tokens")
async def jwks(keyring: KeyRingDep) -> JSONResponse:
    return JSONResponse(
        keyring.public_jwks(),
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/.well-known/oauth-authorization-server", summary="RFC 8414 metadata")
async def metadata(settings: SettingsDep) -> dict[str, Any]:
    issuer = settings.issuer.rstrip("/")
    return {
        **shared_metadata(issuer),
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "introspection_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "grant_types_supported": ["client_credentials", *GRANT_TYPES],
        "scopes_supported": [*sorted(FIXED_SCOPES), "dataset:{dataset_id}:read"],
        "token_endpoint_auth_signing_alg_values_supported": [ALGORITHM],
        "authorization_details_types_supported": ["data_grant"],
    }
