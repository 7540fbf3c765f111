"""The signed-in person of a console page, as a dependency: pages without one send the browser
to the sign-in page; forms without the session's CSRF token are refused, in words; what the
person's role may do is what its token's scopes allow through the API (oauth/scopes.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request

from broker.kit.deps import SessionDep
from broker.kit.problems import Problem, Stated
from broker.oauth.scopes import ROLE_SCOPES, Scope
from broker.people import sessions
from broker.people.roles import Role
from broker.people.sessions import SignedIn
from core.clock import utcnow


class SignInNeeded(Exception):
    """Not a problem for an API client: the console answers it with the sign-in page."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class CSRFRefused(Stated, Problem):
    status = 403
    slug = "csrf-token-missing"
    title = "The form's CSRF token is missing or wrong"
    title_zh = "表单已失效，请刷新页面后重试"
    statement = (
        "the form was posted without this session's CSRF token",
        "提交的表单不含本次登录的校验码（CSRF 令牌）",
    )


def cookie_is_secure(request: Request, issuer: str) -> bool:
    """Secure cookies wherever the broker is reached over https (every deployment; production
    refuses an http issuer), plain only on a loopback development issuer."""
    return issuer.startswith("https://") or request.url.scheme == "https"


async def signed_in(request: Request, session: SessionDep) -> SignedIn:
    found = await sessions.find(session, request.cookies.get(sessions.COOKIE), utcnow())
    if found is None:
        raise SignInNeeded(sessions.sign_in_url(request.url))
    return found


SignedInDep = Annotated[SignedIn, Depends(signed_in)]

# Every form's hidden token field, declared by the dependency that checks it (form_poster) and
# by the sign-in form for its own token.
CsrfField = Annotated[str, Form(max_length=100)]


async def form_poster(me: SignedInDep, csrf: CsrfField = "") -> SignedIn:
    """The person posting a form, once it carries their session's CSRF token: a form declares
    its poster (`me: PosterDep`, or a page's form dependency built on it) instead of checking
    the token itself, so no form can forget it. A dependency, so the token is checked before the
    form's own fields are read."""
    if not me.csrf_matches(csrf):
        raise CSRFRefused()
    return me


PosterDep = Annotated[SignedIn, Depends(form_poster)]


def role_scopes(role: str) -> frozenset[str]:
    return ROLE_SCOPES[Role(role)]


def may_act(role: str, scope: Scope) -> bool:
    """Whether a person's role may do what `scope` allows: a form grants nobody more than the
    API grants the same person's token."""
    return scope in role_scopes(role)
