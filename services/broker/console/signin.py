"""Signing in and out of the console. Before a session exists the sign-in form is protected by
a double-submit token (a cookie and a hidden field that must match); afterwards every form
carries the session's own CSRF token."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from broker.console.lockout import Attempt, count_failure, wait_before
from broker.console.session import CsrfField, PosterDep, SignedInDep, cookie_is_secure
from broker.console.web import render
from broker.kit.deps import CipherDep, RateLimiterDep, SessionDep, SettingsDep
from broker.oauth.logout import after_logout
from broker.people import sessions
from broker.people.exceptions import SignInRefused
from broker.people.service import authenticate
from broker.settings import BrokerSettings
from core.clock import utcnow
from core.settings import Environment

router = APIRouter(prefix="/console", include_in_schema=False)
PRE_SESSION_COOKIE = "cdo_signin"


def local_target(target: str | None) -> str:
    """Only a path on this site: a sign-in page must not send people elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console/"


def signin_form(
    request: Request,
    settings: BrokerSettings,
    next_url: str,
    *,
    error: str | None,
    status: int,
    retry_after_s: int = 0,
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request, "signin.html", status_code=status, csrf=token, next=next_url, error=error,
        minutes=-(-retry_after_s // 60),
        upstream_name=settings.oidc_upstream_name if settings.oidc_upstream_issuer else None,
    )  # fmt: skip
    if retry_after_s:
        response.headers["Retry-After"] = str(retry_after_s)
    response.set_cookie(
        PRE_SESSION_COOKIE, token, httponly=True, samesite="strict", path="/console/signin",
        secure=cookie_is_secure(request, settings.issuer),
    )  # fmt: skip
    return response


@router.get("/signin")
async def signin_page(
    request: Request, settings: SettingsDep, next: str | None = None
) -> HTMLResponse:
    return signin_form(request, settings, local_target(next), error=None, status=200)


@router.post("/signin")
async def signin(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    cipher: CipherDep,
    limiter: RateLimiterDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    csrf: CsrfField = "",
    totp: Annotated[str, Form(max_length=10)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/console/",
) -> Response:
    expected = request.cookies.get(PRE_SESSION_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf):
        return signin_form(request, settings, local_target(next), error="csrf_refused", status=403)
    attempt = Attempt.of(request, username)
    if wait_s := await wait_before(limiter, settings, attempt):
        return signin_form(
            request, settings, local_target(next), error="sign_in_locked", status=429,
            retry_after_s=wait_s,
        )  # fmt: skip
    now = utcnow()
    try:
        person = await authenticate(
            session,
            username=username,
            password=password,
            totp_code=totp.strip() or None,
            cipher=cipher,
            production=settings.environment is Environment.production,
            now=now,
        )
    except SignInRefused:
        if locked_s := await count_failure(limiter, settings, attempt):
            return signin_form(
                request, settings, local_target(next), error="sign_in_locked", status=429,
                retry_after_s=locked_s,
            )  # fmt: skip
        return signin_form(
            request, settings, local_target(next), error="sign_in_refused", status=401
        )
    token, _ = await sessions.start(session, person, now)
    return signed_in_at(request, settings, token, local_target(next))


def signed_in_at(
    request: Request, settings: BrokerSettings, token: str, next_url: str
) -> RedirectResponse:
    """The browser, now holding the session `token`, sent on to `next_url`."""
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(
        sessions.COOKIE, token, httponly=True, samesite="lax", path="/",
        secure=cookie_is_secure(request, settings.issuer),
        max_age=int(sessions.LIFETIME.total_seconds()),
    )  # fmt: skip
    response.delete_cookie(PRE_SESSION_COOKIE, path="/console/signin")
    return response


@router.get("/signout")
async def signout_page(
    request: Request,
    signed_in: SignedInDep,
    client_id: Annotated[str | None, Query(max_length=200)] = None,
    post_logout_redirect_uri: Annotated[str | None, Query(max_length=2000)] = None,
    state: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """The question a sign-out asked by a link gets (GET /oauth/logout without the person's
    ID token): a link alone ends no session."""
    asked = {"client_id": client_id, "post_logout_redirect_uri": post_logout_redirect_uri,
             "state": state}  # fmt: skip
    return render(request, "signout.html", me=signed_in, asked=asked)


@router.post("/signout")
async def signout(
    session: SessionDep,
    signed_in: PosterDep,
    client_id: Annotated[str | None, Form(max_length=200)] = None,
    post_logout_redirect_uri: Annotated[str | None, Form(max_length=2000)] = None,
    state: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    await sessions.end(session, signed_in, utcnow())
    target = await after_logout(session, client_id, post_logout_redirect_uri, state)
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response
