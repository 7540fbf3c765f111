"""Who reads the data bureau's pages, and over which bodies: the people of a data bureau whose
role runs or audits the scheme (operators, auditors: PersonView.runs_the_scheme), over the
bureau's jurisdiction (its own government and those below, with their departments and bureaus:
directory/jurisdiction.py). Reading is all a page grants; each write asks the person's role
(session.may_act) and the service its own rules, as the API does for systems."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from broker.console import repository
from broker.console.session import PosterDep, SignedInDep, may_act
from broker.directory import repository as directory
from broker.directory.jurisdiction import covers
from broker.kit.deps import SessionDep
from broker.oauth.scopes import Scope
from broker.people.sessions import SignedIn
from core.clock import utcnow
from core.models.requests import DataRequest


class BureauOnly(Exception):
    """A page of the data bureau asked by someone else: answered with a page saying so."""

    def __init__(self, me: SignedIn) -> None:
        super().__init__(me.person.organisation_id)
        self.me = me


@dataclass(frozen=True)
class Bureau:
    me: SignedIn
    covered: frozenset[str]  # the organisation ids in the bureau's jurisdiction, its own included

    def may(self, scope: Scope) -> bool:
        return may_act(self.me.person.role, scope)


async def bureau_reader(session: SessionDep, me: SignedInDep) -> Bureau:
    if not me.person.runs_the_scheme:
        raise BureauOnly(me)
    view = await directory.current_view(session, utcnow())
    own = me.person.organisation_id
    return Bureau(me, frozenset(o for o in view.organisations if covers(view, own, o)))


BureauDep = Annotated[Bureau, Depends(bureau_reader)]


async def bureau_form(bureau: BureauDep, _: PosterDep) -> Bureau:
    """The bureau's reader posting one of its pages' forms, once the form carries the session's
    CSRF token (session.form_poster checks it)."""
    return bureau


BureauFormDep = Annotated[Bureau, Depends(bureau_form)]


async def supervised_request(
    session: AsyncSession, me: SignedIn, request_id: str
) -> DataRequest | None:
    """The request, for a bureau's reader, when its requester, its provider or a body deciding
    one of its steps is in the bureau's jurisdiction (what 督办 lists); else None."""
    try:
        bureau = await bureau_reader(session, me)
    except BureauOnly:
        return None
    request = await session.get(DataRequest, request_id)
    if request is None:
        return None
    if {request.requester_id, request.provider_id} & bureau.covered:
        return request
    return request if await repository.decides_a_step(session, request_id, bureau.covered) else None
