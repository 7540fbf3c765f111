"""Signing in and out of the console. Before a session exists the sign-in form is protected by
a double-submit token (a cookie and a hidden field that must match); afterwards every form
carries the session's own CSRF token."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from broker.console.session import SignedInDep, cookie_is_secure, refuse_without_csrf
from broker.console.web import render
from broker.kit.deps import CipherDep, SessionDep, SettingsDep
from broker.people import sessions
from broker.people.exceptions import SignInRefused
from broker.people.service import authenticate
from broker.settings import BrokerSettings
from core.clock import utcnow
from core.settings import Environment

router = APIRouter(prefix="/console", include_in_schema=False)
PRE_SESSION_COOKIE = "cdo_signin"


def _local(target: str | None) -> str:
    """Only a path on this site: a sign-in page must not send people elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console/"


def _form(
    request: Request, settings: BrokerSettings, next_url: str, *, error: str | None, status: int
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request, "signin.html", status_code=status, csrf=token, next=next_url, error=error
    )
    response.set_cookie(
        PRE_SESSION_COOKIE, token, httponly=True, samesite="strict", path="/console/signin",
        secure=cookie_is_secure(request, settings.issuer),
    )  # fmt: skip
    return response


@router.get("/signin")
async def signin_page(
    request: Request, settings: SettingsDep, next: str | None = None
) -> HTMLResponse:
    return _form(request, settings, _local(next), error=None, status=200)


@router.post("/signin")
async def signin(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    cipher: CipherDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    totp: Annotated[str, Form(max_length=10)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/console/",
) -> Response:
    expected = request.cookies.get(PRE_SESSION_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf):
        return _form(request, settings, _local(next), error="csrf_refused", status=403)
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
        return _form(request, settings, _local(next), error="sign_in_refused", status=401)
    token, _ = await sessions.start(session, person, now)
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(
        sessions.COOKIE, token, httponly=True, samesite="lax", path="/",
        secure=cookie_is_secure(request, settings.issuer),
        max_age=int(sessions.LIFETIME.total_seconds()),
    )  # fmt: skip
    response.delete_cookie(PRE_SESSION_COOKIE, path="/console/signin")
    return response


@router.post("/signout")
async def signout(
    session: SessionDep,
    signed_in: SignedInDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    refuse_without_csrf(signed_in, csrf)
    await sessions.end(session, signed_in, utcnow())
    response = RedirectResponse("/console/signin", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response
