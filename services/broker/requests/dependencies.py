"""What filing and deciding need from the app, as typed dependencies (kit/deps.py says how): the
routing policy the lifespan (app.py) loads, the links every notification carries, and what every
write on one request is given."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypedDict

from fastapi import Depends, Request

from broker.kit.deps import SETTINGS, AppResource, SessionDep
from broker.oauth.principal import Principal, require_scope
from broker.oauth.scopes import Scope
from broker.requests.access import Acting, acting_for
from broker.requests.links import Links
from broker.routing.policy import Policy
from core.clock import utcnow

ROUTING_POLICY = AppResource[Policy]("routing_policy")

PolicyDep = Annotated[Policy, Depends(ROUTING_POLICY.provide)]


def links_of(request: Request) -> Links:
    """The links, for a hot endpoint that reads its resources itself (kit/deps.py)."""
    return Links.of(SETTINGS.of(request))


async def get_links(request: Request) -> Links:  # async: no worker thread (kit/deps.py)
    return links_of(request)


LinksDep = Annotated[Links, Depends(get_links)]


class Write(TypedDict):
    """The arguments every write on the request the path names takes after the session
    (`**write`): the request, whom the caller acts for (its own body and its delegators'), and
    the one moment the write happens at."""

    request_id: str
    acting: Acting
    now: datetime


def write_by(scope: Scope) -> Callable[..., Awaitable[Write]]:
    """A write's dependency for a caller holding `scope`."""

    # A default, not an annotation: annotations are strings here, and `scope` is not a global.
    async def write(
        request_id: str,
        session: SessionDep,
        caller: Principal = Depends(require_scope(scope)),  # noqa: B008
    ) -> Write:
        now = utcnow()
        acting = await acting_for(session, caller.actor, now)
        return Write(request_id=request_id, acting=acting, now=now)

    return write


DecidersWrite = Annotated[Write, Depends(write_by(Scope.approvals_decide))]
RequestersWrite = Annotated[Write, Depends(write_by(Scope.requests_submit))]
