"""The authorization server's HTTP face: token endpoint, JWKS and RFC 8414 metadata."""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote

from authlib.oauth2 import OAuth2Error
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.kit.deps import RateLimiterDep, RedisDep, SessionDep, SettingsDep
from broker.kit.problems import ServiceUnavailable, Unauthorized
from broker.kit.ratelimit import RateLimiter
from broker.kit.tracing import follow_request
from broker.oauth import revocation
from broker.oauth.clients import find_client_record
from broker.oauth.dependencies import AuthorizationServerDep, KeyRingDep
from broker.oauth.documented import TOKEN_CHECK_FORM, TOKEN_FORM, oauth_errors
from broker.oauth.introspection import introspect
from broker.oauth.keys import ALGORITHM
from broker.oauth.lockout import Caller, admit, count_failure
from broker.oauth.oidc import GRANT_TYPES, sign_in_state
from broker.oauth.oidc_state import held_sign_in
from broker.oauth.principal import decode_access_token
from broker.oauth.scopes import DATASET_SCOPE, FIXED_SCOPES, Scope, parse_scope
from broker.oauth.server import (
    TOKEN_AUTH_METHODS,
    AuthlibClient,
    BrokerAuthorizationServer,
    StarletteOAuth2Request,
    preloaded_client,
)
from broker.settings import BrokerSettings
from core.clock import utcnow
from core.metrics import instruments

router = APIRouter(tags=["oauth"])


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


@dataclass(frozen=True)
class Gate:
    """What the token, introspection and revocation endpoints check a client with."""

    settings: BrokerSettings
    limiter: RateLimiter
    server: BrokerAuthorizationServer


def _gate(settings: SettingsDep, limiter: RateLimiterDep, server: AuthorizationServerDep) -> Gate:
    return Gate(settings, limiter, server)


GateDep = Annotated[Gate, Depends(_gate)]


async def _form(request: Request) -> dict[str, str]:
    return {key: str(value) for key, value in (await request.form()).items()}


@router.post(
    "/oauth/token",
    summary="Issue an access token (client credentials; a person's code or refresh token)",
    responses=oauth_errors(400, 401, 429),
    openapi_extra=TOKEN_FORM,
)
async def issue_token(request: Request, session: SessionDep, gate: GateDep) -> Response:
    form = await _form(request)
    client_id = _client_id_of(request.headers.get("authorization"), form)
    caller = Caller.of(request, client_id)
    admission = await admit(gate.limiter, caller, "token", gate.settings.rate_limit_token)
    if refusal := admission.refusal():
        return refusal
    datasets = [
        m["dataset_id"] for s in parse_scope(form.get("scope")) if (m := DATASET_SCOPE.match(s))
    ]
    record = (
        await find_client_record(session, client_id, dataset_ids=datasets) if client_id else None
    )
    if record is None and (refusal := admission.refusal_of_unknown()):
        return refusal
    if record is not None and datasets and (grant := record.grants.get(datasets[0])):
        follow_request(grant.request_id, *grant.request_trace)  # a grant token: part of its story
    oauth_request = StarletteOAuth2Request(request.method, str(request.url), request.headers, form)
    state = await held_sign_in(
        session,
        form,
        now=utcnow(),
        refresh_ttl=gate.settings.refresh_token_ttl_seconds,
    )
    with preloaded_client(record), sign_in_state(state):
        response: Response = gate.server.create_token_response(oauth_request)
    if _is_invalid_client(response):
        await count_failure(gate.limiter, gate.settings, caller, known=record is not None)
    answer = json.loads(bytes(response.body))
    instruments().tokens.add(1, {"outcome": "issued" if response.status_code == 200 else "refused"})
    await audit.record(
        session,
        "token.issued" if response.status_code == 200 else "token.refused",
        actor=Actor(record.organisation_id if record else None, client_id)
        if state.holder is None or response.status_code != 200
        else Actor(state.holder.organisation_id, client_id, state.holder.id),
        subject=client_id,
        scope=answer.get("scope", form.get("scope")),
        error=answer.get("error"),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def _authenticated_client(
    request: Request, session: AsyncSession, gate: Gate, endpoint: str, rate: str
) -> tuple[dict[str, str], AuthlibClient | Response]:
    """The form, and the client authenticated by authlib as at the token endpoint (an error
    response if that fails)."""
    form = await _form(request)
    client_id = _client_id_of(request.headers.get("authorization"), form)
    caller = Caller.of(request, client_id)
    admission = await admit(gate.limiter, caller, endpoint, rate)
    if refusal := admission.refusal():
        return form, refusal
    record = await find_client_record(session, client_id) if client_id else None
    if record is None and (refusal := admission.refusal_of_unknown()):
        return form, refusal
    oauth_request = StarletteOAuth2Request(request.method, str(request.url), request.headers, form)
    with preloaded_client(record):
        try:
            client: AuthlibClient = gate.server.authenticate_client(
                oauth_request, TOKEN_AUTH_METHODS, endpoint=endpoint
            )
        except OAuth2Error as error:
            if error.error == "invalid_client":
                await count_failure(gate.limiter, gate.settings, caller, known=record is not None)
            response: Response = gate.server.handle_error_response(oauth_request, error)
            return form, response
    return form, client


@router.post(
    "/oauth/introspect",
    summary="RFC 7662: is a token active, and what does it grant",
    responses=oauth_errors(400, 401, 403, 429),
    openapi_extra=TOKEN_CHECK_FORM,
)
async def introspect_token(
    request: Request, session: SessionDep, gate: GateDep, keyring: KeyRingDep, redis: RedisDep
) -> Response:
    rate = gate.settings.rate_limit_introspect
    form, client = await _authenticated_client(request, session, gate, "introspection", rate)
    if isinstance(client, Response):
        return client
    if Scope.tokens_introspect.value not in parse_scope(client.record.scope):
        return JSONResponse(
            {"error": "insufficient_scope", "error_description": "needs 'tokens:introspect'"},
            status_code=403,
        )
    answer = await introspect(
        form.get("token", ""),
        session=session,
        redis=redis,
        keyring=keyring,
        issuer=gate.settings.issuer,
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
async def revoke_token(
    request: Request, session: SessionDep, gate: GateDep, keyring: KeyRingDep, redis: RedisDep
) -> Response:
    rate = gate.settings.rate_limit_token
    form, client = await _authenticated_client(request, session, gate, "revocation", rate)
    if isinstance(client, Response):
        return client
    try:
        claims = decode_access_token(form.get("token", ""), keyring, gate.settings.issuer)
    except Unauthorized:
        return Response(status_code=200)  # RFC 7009: an invalid token needs no revoking
    if claims["client_id"] != client.get_client_id():
        return Response(status_code=200)  # RFC 7009: not the caller's token, nothing to say
    if redis is None:  # nowhere to keep it (development without REDIS_URL): say so
        raise ServiceUnavailable("token revocation needs Redis; this broker runs without REDIS_URL")
    await audit.record(
        session,
        "token.revoked",
        actor=Actor(client.record.organisation_id, client.get_client_id()),
        subject=str(claims["jti"]),
    )
    await revocation.revoke(
        redis, str(claims["jti"]), seconds_left=int(claims["exp"]) - int(time.time())
    )
    return Response(status_code=200)


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
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials", *GRANT_TYPES],
        "token_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "scopes_supported": [*sorted(FIXED_SCOPES), "dataset:{dataset_id}:read"],
        "response_types_supported": ["code"],
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_signing_alg_values_supported": [ALGORITHM],
        "authorization_details_types_supported": ["data_grant"],
    }
