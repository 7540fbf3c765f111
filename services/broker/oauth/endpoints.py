"""The authorization server's HTTP face: token endpoint, JWKS and RFC 8414 metadata."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from broker.kit.db import SessionDep
from broker.oauth.clients import find_client_record
from broker.oauth.keys import ALGORITHM
from broker.oauth.scopes import FIXED_SCOPES
from broker.oauth.server import (
    TOKEN_AUTH_METHODS,
    BrokerAuthorizationServer,
    StarletteOAuth2Request,
    preloaded_client,
)

router = APIRouter(tags=["oauth"])


def _client_id_of(authorization: str | None, form: dict[str, str]) -> str | None:
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return unquote(decoded.partition(":")[0]) or None
    return form.get("client_id")


@router.post("/oauth/token", summary="Issue an access token (client credentials)")
async def issue_token(request: Request, session: SessionDep) -> Response:
    form = {key: str(value) for key, value in (await request.form()).items()}
    client_id = _client_id_of(request.headers.get("authorization"), form)
    record = await find_client_record(session, client_id) if client_id else None
    server: BrokerAuthorizationServer = request.app.state.authorization_server
    oauth_request = StarletteOAuth2Request(request.method, str(request.url), request.headers, form)
    with preloaded_client(record):
        response: Response = server.create_token_response(oauth_request)
    response.headers["Cache-Control"] = "no-store"
    return response


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
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "scopes_supported": [*sorted(FIXED_SCOPES), "dataset:{dataset_id}:read"],
        "response_types_supported": [],
        "token_endpoint_auth_signing_alg_values_supported": [ALGORITHM],
    }
