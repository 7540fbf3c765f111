"""A request's page: who asks for what (the wanted fields marked), the route with each step's
state and deadline, the timeline, the trace id; and, when it is the reader's turn, the decision
form: approve, approve narrowed (untick fields, an earlier end date), reject with a reason, ask a
clarification. The same services and rules as the API; a refusal is shown in words and changes
nothing (the transaction is rolled back)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from broker.console.bureau import supervised_request
from broker.console.coordination_side import appeal_bodies, coordination_side
from broker.console.dates import last_day
from broker.console.names import dataset_names, divisions_within, organisation_names
from broker.console.outcomes import outcome
from broker.console.refusals import Refused
from broker.console.requester_side import requester_side
from broker.console.session import PosterDep, SignedInDep, may_act
from broker.console.tasks import task_of
from broker.console.web import language, render, time_left
from broker.kit.deps import SessionDep, SettingsDep
from broker.oauth.scopes import Scope
from broker.people.sessions import SignedIn
from broker.requests import views
from broker.requests.access import Acting, acting_for
from broker.requests.repository import listing
from broker.requests.schemas import RequestOut
from broker.requests.timeline import timeline_of
from broker.settings import BrokerSettings
from core.clock import utcnow
from core.models.catalog import Dataset
from core.models.requests import DataRequest

router = APIRouter()


@dataclass(frozen=True)
class RequestPage:
    """A request's page as its reader asks for it or posts one of its forms (request_forms.py,
    appeal_forms.py): a form's refusal is the page again, in words; its success, a redirect to
    the page saying what was done."""

    request: Request
    session: AsyncSession
    me: SignedIn
    settings: BrokerSettings
    request_id: str

    async def visible(self, acting: Acting) -> DataRequest | None:
        """The request, where the acting body's part in it lets it see the request."""
        return await listing.visible_request(
            self.session, self.request_id, acting.own, acting.org_ids
        )

    async def show(self, *, error: str | None = None, status_code: int = 200) -> HTMLResponse:
        """The page; after a refused form, with the refusal in words."""
        request, session, me = self.request, self.session, self.me
        now = utcnow()
        lang = language(request)
        acting = await acting_for(session, me.actor, now)
        found = await self.visible(acting) or await supervised_request(session, me, self.request_id)
        if found is None:
            return render(request, "refused.html", status_code=404, message="not_found", me=me)
        described = (await views.describe(session, [found], now))[0]
        dataset = await session.get(Dataset, described.dataset_id) if described.dataset_id else None
        orgs = [described.requester_id, described.provider_id, *appeal_bodies(described)] + [
            a.organisation_id for step in described.route for a in step.approvers
        ]
        return render(
            request,
            "request.html",
            status_code=status_code,
            me=me,
            r=described,
            fields=_fields(described, dataset),
            grade=dataset.grade if dataset else None,
            my_turn=_may_decide(described, acting, me.person.role, now),
            timeline=await timeline_of(session, found, self.settings.trace_ui_url),
            names=await organisation_names(session, orgs, lang),
            datasets=await dataset_names(session, [described.dataset_id], lang),
            division=dict(await divisions_within(session, described.jurisdiction, lang))
            if described.jurisdiction
            else {},
            left=lambda due: time_left(due, now, lang),
            last_day=last_day,
            error=error,
            **await requester_side(session, described, acting, me.person.role),
            **await coordination_side(request, found, described, acting, me.person.role, now),
        )

    async def acting_as(self, scope: Scope, refusal: str) -> tuple[Acting, datetime]:
        """The reader's body acting now, refused (403, `refusal`'s words) unless the reader's
        role may do what `scope` allows (as a person's token says)."""
        now = utcnow()
        acting = await acting_for(self.session, self.me.actor, now)
        if not may_act(self.me.person.role, scope):
            raise Refused(refusal, status=403)
        return acting, now

    async def outcome(self, act: Awaitable[object], done: str) -> Response:
        """What a form's `act` comes to (outcomes.py): done, the page saying `done`."""
        done_url = f"/console/requests/{self.request_id}?done={done}"
        return await outcome(self.request, self.session, act, self.show, done_url)


async def request_page(
    request: Request, session: SessionDep, me: SignedInDep, settings: SettingsDep, request_id: str
) -> RequestPage:
    return RequestPage(request, session, me, settings, request_id)


RequestPageDep = Annotated[RequestPage, Depends(request_page)]


async def request_form(page: RequestPageDep, _: PosterDep) -> RequestPage:
    """The page a form of it is posted from, once the form carries the session's CSRF token
    (session.form_poster checks it)."""
    return page


RequestFormDep = Annotated[RequestPage, Depends(request_form)]


def _fields(r: RequestOut, dataset: Dataset | None) -> list[dict[str, Any]]:
    """Every field of the dataset (and any asked for that the catalog no longer lists), those
    asked for marked `wanted`, personal ones flagged as the catalog says."""
    catalogued = list(dataset.fields) if dataset else []
    names = [f["name"] for f in catalogued]
    every = catalogued + [{"name": name} for name in r.fields if name not in names]
    return [
        {
            "name": f["name"],
            "label": f.get("label", f["name"]),
            "personal": bool(f.get("personal")),
            "sensitive": bool(f.get("sensitive")),
            "wanted": f["name"] in r.fields,
            "granted": f["name"] in r.granted_fields,
        }
        for f in every
    ]


def _may_decide(r: RequestOut, acting: Acting, role: str, now: datetime) -> bool:
    return may_act(role, Scope.approvals_decide) and task_of(r, acting, now) is not None


@router.get("/requests/{request_id}")
async def request_view(
    page: RequestPageDep,
) -> HTMLResponse:
    return await page.show()
