"""A request's page: who asks for what (the wanted fields marked), the route with each step's
state and deadline, the timeline, the trace id; and, when it is the reader's turn, the decision
form: approve, approve narrowed (untick fields, an earlier end date), reject with a reason, ask a
clarification. The same services and rules as the API; a refusal is shown in words and changes
nothing (the transaction is rolled back)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from broker.console.coordination_side import appeal_bodies, coordination_side
from broker.console.dates import end_of_day, last_day
from broker.console.names import dataset_names, organisation_names
from broker.console.refusals import Refused, in_words, status_of
from broker.console.session import SignedInDep, refuse_without_csrf
from broker.console.tasks import task_of
from broker.console.web import language, render, time_left
from broker.kit.deps import SessionDep, SettingsDep
from broker.kit.problems import Problem
from broker.oauth.dependencies import KeyRingDep
from broker.requests import clarifications, decisions, repository, views
from broker.requests.access import Acting, acting_for
from broker.requests.dependencies import LinksDep
from broker.requests.schemas import DecisionIn, PeriodIn, RequestOut
from broker.requests.timeline import timeline_of
from broker.settings import BrokerSettings
from core.clock import utcnow
from core.models.catalog import Dataset

router = APIRouter()


async def show(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    request_id: str,
    *,
    trace_ui_url: str | None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    now = utcnow()
    lang = language(request)
    acting = await acting_for(session, me.actor, now)
    found = await repository.visible_request(session, request_id, acting.own, acting.org_ids)
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
        my_turn=_may_decide(described, acting, me.person.role),
        timeline=await timeline_of(session, found, trace_ui_url),
        names=await organisation_names(session, orgs, lang),
        datasets=await dataset_names(session, [described.dataset_id], lang),
        left=lambda due: time_left(due, now, lang),
        last_day=last_day,
        error=error,
        notice=notice,
        **await coordination_side(request, found, described, acting, me.person.role, now),
    )


def _fields(r: RequestOut, dataset: Dataset | None) -> list[dict[str, Any]]:
    """Every field of the dataset, those asked for marked, personal ones flagged."""
    known = {f["name"]: f for f in (dataset.fields if dataset else [])}
    return [
        {
            "name": name,
            "label": known.get(name, {}).get("label", name),
            "personal": bool(known.get(name, {}).get("personal")),
            "sensitive": bool(known.get(name, {}).get("sensitive")),
            "granted": name in r.granted_fields,
        }
        for name in r.fields
    ]


def _may_decide(r: RequestOut, acting: Acting, role: str) -> bool:
    return role in ("cdo", "bureau_operator") and task_of(r, acting) is not None


@router.get("/requests/{request_id}")
async def request_view(
    request: Request, session: SessionDep, settings: SettingsDep, me: SignedInDep, request_id: str
) -> HTMLResponse:
    return await show(request, session, me, request_id, trace_ui_url=settings.trace_ui_url)


@router.post("/requests/{request_id}/decision")
async def decide(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    me: SignedInDep,
    links: LinksDep,
    keyring: KeyRingDep,
    request_id: str,
    action: Annotated[str, Form(pattern="^(approve|reject|clarify)$")],
    csrf: Annotated[str, Form(max_length=100)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
    fields: Annotated[list[str] | None, Form()] = None,
    end: Annotated[date | None, Form()] = None,
) -> Response:
    refuse_without_csrf(me, csrf)
    now = utcnow()
    acting = await acting_for(session, me.actor, now)
    try:
        if action == "clarify":
            await clarifications.ask_clarification(
                session, request_id=request_id, acting=acting, question=comment, now=now
            )
        else:
            body = await _decision(session, acting, request_id, action, comment, fields, end)
            await decisions.decide(
                session, request_id=request_id, acting=acting, body=body, now=now,
                links=links, keyring=keyring,
                require_person=True,
            )  # fmt: skip
    except (Problem, ValidationError, Refused) as refused:
        return await refused_page(request, session, me, request_id, settings, refused)
    return RedirectResponse(f"/console/requests/{request_id}?done=1", status_code=303)


async def refused_page(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    request_id: str,
    settings: BrokerSettings,
    refused: Exception,
) -> HTMLResponse:
    """The request's page again, the refusal in words; what the form did is rolled back."""
    await session.rollback()  # nothing refused changes anything
    return await show(
        request, session, me, request_id, trace_ui_url=settings.trace_ui_url,
        error=in_words(refused, language(request)), status_code=status_of(refused),
    )  # fmt: skip


async def _decision(
    session: SessionDep,
    acting: Acting,
    request_id: str,
    action: str,
    comment: str,
    fields: list[str] | None,
    end: date | None,
) -> DecisionIn:
    if action == "reject":
        if not comment.strip():
            raise Refused("reason_required")
        return DecisionIn(decision="reject", comment=comment)
    found = await repository.visible_request(session, request_id, acting.own, acting.org_ids)
    current = (await views.describe(session, [found], utcnow()))[0] if found else None
    narrowed_fields = None
    period = None
    if current is not None:
        if fields is not None and sorted(fields) != sorted(current.granted_fields):
            narrowed_fields = fields
        if fields is None:
            narrowed_fields = []  # every box unticked: refused by the rules, in words
        if end is not None and end != last_day(current.granted_period.end):
            period = PeriodIn(start=current.granted_period.start, end=end_of_day(end))
    return DecisionIn(
        decision="approve",
        comment=comment or None,
        fields=narrowed_fields,
        period=period,
    )
