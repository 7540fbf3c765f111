"""The signed-in person of a console page, as a dependency: pages without one send the browser
to the sign-in page; forms without the session's CSRF token are refused, in words."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request

from broker.kit.deps import SessionDep
from broker.kit.problems import Problem
from broker.people import sessions
from broker.people.sessions import SignedIn
from core.clock import utcnow


class SignInNeeded(Exception):
    """Not a problem for an API client: the console answers it with the sign-in page."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class CSRFRefused(Problem):
    status = 403
    slug = "csrf-token-missing"
    title = "The form's CSRF token is missing or wrong"
    title_zh = "表单已失效，请刷新页面后重试"


def cookie_is_secure(request: Request, issuer: str) -> bool:
    """Secure cookies wherever the broker is reached over https (every deployment; production
    refuses an http issuer), plain only on a loopback development issuer."""
    return issuer.startswith("https://") or request.url.scheme == "https"


async def signed_in(request: Request, session: SessionDep) -> SignedIn:
    found = await sessions.find(session, request.cookies.get(sessions.COOKIE), utcnow())
    if found is None:
        target = request.url.path + ("?" + request.url.query if request.url.query else "")
        raise SignInNeeded("/console/signin?" + urlencode({"next": target}))
    return found


def refuse_without_csrf(person: SignedIn, posted: str | None) -> None:
    if not person.csrf_matches(posted):
        raise CSRFRefused("the form was posted without this session's CSRF token")


SignedInDep = Annotated[SignedIn, Depends(signed_in)]
