"""Signing in to the console through the province's unified sign-on (oauth/upstream.py): the
sign-in page's button leaves for the provider with the flow kept in an encrypted, HTTP-only
cookie of a few minutes; the provider's answer comes back to the callback, which checks that
cookie's `state`, has the code exchanged and the ID token verified, and starts the session of
the person the token names. Every refusal ends on the sign-in page, in words, with no session."""

from __future__ import annotations

import hmac
import logging
import time

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from broker.console.session import cookie_is_secure
from broker.console.signin import local_target, signed_in_at, signin_form
from broker.kit.deps import CipherDep, SessionDep, SettingsDep
from broker.oauth.dependencies import UpstreamDep
from broker.oauth.upstream import Flow, UpstreamRefused
from broker.people import repository, sessions
from core.clock import utcnow
from core.webhooks.secrets import UndecryptableSecret

router = APIRouter(prefix="/console", include_in_schema=False)
logger = logging.getLogger(__name__)

FLOW_COOKIE = "cdo_upstream"
FLOW_PATH = "/console/signin/upstream"


@router.get("/signin/upstream")
async def leave_for_upstream(
    request: Request,
    settings: SettingsDep,
    cipher: CipherDep,
    upstream: UpstreamDep,
    next: str | None = None,
) -> Response:
    if upstream is None:
        return signin_form(request, settings, "/console/", error="upstream_off", status=404)
    flow = Flow.start(local_target(next))
    try:
        target = await upstream.authorization_url(flow)
    except UpstreamRefused as refused:
        logger.warning("unified sign-on unavailable: %s", refused)
        return signin_form(
            request, settings, flow.next_url, error="upstream_unavailable", status=502
        )
    response = RedirectResponse(target, status_code=303)
    # Lax: the provider sends the browser back with a top-level GET from its own site
    response.set_cookie(
        FLOW_COOKIE, cipher.encrypt(flow.dumps()), max_age=600, httponly=True, samesite="lax",
        path=FLOW_PATH, secure=cookie_is_secure(request, settings.issuer),
    )  # fmt: skip
    return response


@router.get("/signin/upstream/callback")
async def back_from_upstream(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    cipher: CipherDep,
    upstream: UpstreamDep,
    state: str = "",
    code: str = "",
    error: str = "",
) -> Response:
    def refused(words: str, why: str, status: int = 401) -> HTMLResponse:
        logger.warning("unified sign-on refused: %s", why)
        page = signin_form(request, settings, "/console/", error=words, status=status)
        page.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
        return page

    flow = _flow_of(request, cipher)
    if upstream is None:
        return refused("upstream_off", "OIDC_UPSTREAM_ISSUER is not set", 404)
    if flow is None or flow.expired(time.time()):
        return refused("upstream_expired", "no sign-in of this browser is under way")
    if not hmac.compare_digest(flow.state, state):
        return refused("upstream_expired", "the state is not this browser's")
    if error or not code:
        return refused("upstream_cancelled", f"the provider answered {error or 'no code'}")
    try:
        username = await upstream.username_of(code, flow)
    except UpstreamRefused as why:
        return refused("upstream_refused", str(why))
    person = await repository.by_username(session, username)
    if person is None or person.disabled_at is not None:
        return refused("upstream_unknown_person", f"no person '{username}' here", 403)
    now = utcnow()
    token, _ = await sessions.start(session, person, now, via="upstream")
    response = signed_in_at(request, settings, token, flow.next_url)
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    return response


def _flow_of(request: Request, cipher: CipherDep) -> Flow | None:
    kept = request.cookies.get(FLOW_COOKIE)
    if not kept:
        return None
    try:
        return Flow.loads(cipher.decrypt(kept))
    except (UndecryptableSecret, ValueError, TypeError):  # tampered with, or another key's
        return None
