"""The OpenID Connect provider's HTTP face: discovery, the authorization endpoint (a person
signed in to the console gets a code at once; anyone else signs in first), userinfo and
sign-out. Tokens come from /oauth/token (oauth/endpoints.py)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from broker.kit.deps import SessionDep, SettingsDep
from broker.kit.problem_docs import problems
from broker.kit.problems import Forbidden
from broker.oauth.clients import find_client_record
from broker.oauth.dependencies import AuthorizationServerDep, KeyRingDep
from broker.oauth.discovery import shared_metadata
from broker.oauth.keys import ALGORITHM
from broker.oauth.logout import after_logout, client_of, proves_the_person, read_hint
from broker.oauth.oidc import SignedInUser, SignInState, sign_in_state
from broker.oauth.oidc_state import record_issued_code
from broker.oauth.principal import CallerDep
from broker.oauth.scopes import FIXED_SCOPES, IDENTITY_SCOPES
from broker.oauth.server import (
    StarletteOAuth2Request,
    preloaded_client,
)
from broker.people import sessions
from core.clock import utcnow
from core.models.people import Person

router = APIRouter(tags=["oauth"])
CLAIMS = ["sub", "name", "preferred_username", "org_id", "roles", "auth_time", "nonce"]


@router.get("/.well-known/openid-configuration", summary="OpenID Connect discovery")
async def openid_configuration(settings: SettingsDep) -> dict[str, Any]:
    issuer = settings.issuer.rstrip("/")
    return {
        **shared_metadata(issuer),
        "userinfo_endpoint": f"{issuer}/oauth/userinfo",
        "end_session_endpoint": f"{issuer}/oauth/logout",
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "scopes_supported": sorted(IDENTITY_SCOPES | FIXED_SCOPES),
        "claims_supported": CLAIMS,
    }


@router.get(
    "/oauth/authorize",
    summary="Sign a person in (authorization code with PKCE S256)",
    response_class=Response,
    responses={
        302: {"description": "back to the client with a code, or with an error"},
        303: {"description": "not signed in: to the console's sign-in page, then back here"},
        400: {"description": "an unknown client or redirect URI: no redirect (RFC 6749 4.1.2.1)"},
    },
)
async def authorize(
    request: Request, session: SessionDep, server: AuthorizationServerDep
) -> Response:
    now = utcnow()
    signed_in = await sessions.find(session, request.cookies.get(sessions.COOKIE), now)
    if signed_in is None:
        return RedirectResponse(sessions.sign_in_url(request.url), status_code=303)
    query = dict(request.query_params)
    client_id = query.get("client_id")
    record = await find_client_record(session, client_id) if client_id else None
    user = SignedInUser.of(signed_in.person, signed_in.signed_in_at)
    oauth_request = StarletteOAuth2Request("GET", str(request.url), request.headers, query)
    # First-party clients registered by an operator: no consent screen, as a province's
    # unified sign-on does for its own systems.
    state = SignInState(session, now, user=user)
    with preloaded_client(record), sign_in_state(state):
        try:
            grant = server.get_authorization_grant(oauth_request)
        except OAuth2Error as error:  # an unsupported response_type
            error.state = oauth_request.payload.state
            response: Response = server.handle_error_response(oauth_request, error)
        else:
            response = server.create_authorization_response(
                oauth_request, grant_user=user, grant=grant
            )
    await record_issued_code(state)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(
    "/oauth/userinfo",
    summary="Who signed in: sub, name, org_id, roles",
    responses=problems(403),
)
async def userinfo(caller: CallerDep, session: SessionDep) -> JSONResponse:
    person = await session.get(Person, caller.person_id) if caller.person_id else None
    if person is None or "openid" not in caller.scopes:
        raise Forbidden(
            "userinfo answers a person's access token with the scope 'openid'",
            detail_zh="userinfo 只接受带权限范围“openid”的个人访问令牌",
        )
    answer = SignedInUser.of(person, utcnow()).userinfo()
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


@router.get(
    "/oauth/logout",
    summary="Sign out (RP-initiated logout): ends the browser's session",
    description="With an `id_token_hint` (an ID token the broker issued to the signed-in "
    "person, expired or not) the session ends at once; without one the person confirms it on "
    "the console's sign-out page. Afterwards the browser goes to `post_logout_redirect_uri` "
    "(with `state`) if the client registered it as a redirect URI, else to the sign-in page.",
    response_class=Response,
    responses={
        303: {"description": "signed out, on to where the client asked; or to the confirmation"},
        400: {"description": "a parameter the broker cannot read (e.g. a NUL character)"},
    },
)
async def logout(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    keyring: KeyRingDep,
    id_token_hint: Annotated[str | None, Query(max_length=8000)] = None,
    client_id: Annotated[str | None, Query(max_length=200)] = None,
    post_logout_redirect_uri: Annotated[str | None, Query(max_length=2000)] = None,
    state: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    now = utcnow()
    signed_in = await sessions.find(session, request.cookies.get(sessions.COOKIE), now)
    hint = read_hint(keyring, settings.issuer, id_token_hint)
    client = client_of(client_id, hint)
    target = await after_logout(session, client, post_logout_redirect_uri, state)
    if signed_in is not None and not proves_the_person(hint, signed_in.person.id, client):
        asked = {"client_id": client, "post_logout_redirect_uri": post_logout_redirect_uri,
                 "state": state}  # fmt: skip
        query = urlencode({key: value for key, value in asked.items() if value})
        return RedirectResponse("/console/signout" + ("?" + query if query else ""), 303)
    if signed_in is not None:
        await sessions.end(session, signed_in, now)
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response
