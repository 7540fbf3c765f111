"""A request's page: who asks for what (the wanted fields marked), the route with each step's
state and deadline, the timeline, the trace id; and, when it is the reader's turn, the decision
form: approve, approve narrowed (untick fields, an earlier end date), reject with a reason, ask a
clarification. The same services and rules as the API; a refusal is shown in words and changes
nothing (the transaction is rolled back)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from broker.console.bureau import supervised_request
from broker.console.coordination_side import appeal_bodies, coordination_side
from broker.console.dates import last_day
from broker.console.names import dataset_names, divisions_within, organisation_names
from broker.console.narrowing import Ticked, TickedDep, narrowing
from broker.console.refusals import Refused, in_words, status_of
from broker.console.requester_side import requester_side
from broker.console.session import CsrfField, SignedInDep, may_act, refuse_without_csrf
from broker.console.tasks import task_of
from broker.console.web import language, render, time_left
from broker.kit.deps import SessionDep, SettingsDep
from broker.kit.problems import Problem
from broker.oauth.dependencies import KeyRingDep
from broker.oauth.scopes import Scope
from broker.requests import clarifications, decisions, views, withdrawal
from broker.requests.access import Acting, acting_for
from broker.requests.dependencies import LinksDep
from broker.requests.lifecycle import Grantable
from broker.requests.repository import listing
from broker.requests.schemas import ClarificationIn, DecisionIn, RequestOut
from broker.requests.timeline import timeline_of
from broker.settings import BrokerSettings
from core.clock import utcnow
from core.models.catalog import Dataset

router = APIRouter()


async def show(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    settings: BrokerSettings,
    request_id: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    now = utcnow()
    lang = language(request)
    acting = await acting_for(session, me.actor, now)
    found = await listing.visible_request(
        session, request_id, acting.own, acting.org_ids
    ) or await supervised_request(session, me, request_id)
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
        timeline=await timeline_of(session, found, settings.trace_ui_url),
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
    request: Request, session: SessionDep, me: SignedInDep, settings: SettingsDep, request_id: str
) -> HTMLResponse:
    return await show(request, session, me, settings, request_id)


@router.post("/requests/{request_id}/decision")
async def decide(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    settings: SettingsDep,
    links: LinksDep,
    keyring: KeyRingDep,
    request_id: str,
    action: Annotated[str, Form(pattern="^(approve|reject|veto|clarify)$")],
    narrowed: TickedDep,
    csrf: CsrfField = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    refuse_without_csrf(me, csrf)
    now = utcnow()
    acting = await acting_for(session, me.actor, now)
    try:
        if not may_act(me.person.role, Scope.approvals_decide):  # as a person's token says
            raise Refused("deciders_only", status=403)
        if action == "clarify":
            if not comment.strip():
                raise Refused("question_required")
            asked = ClarificationIn(question=comment.strip())  # the API's rules for a question
            await clarifications.ask_clarification(
                session, request_id=request_id, acting=acting, question=asked.question, now=now
            )
        else:
            body = await _decision(session, acting, request_id, action, comment, narrowed)
            await decisions.decide(
                session, request_id=request_id, acting=acting, body=body, now=now,
                links=links, keyring=keyring,
                require_person=True,
            )  # fmt: skip
    except (Problem, ValidationError, Refused) as refused:
        return await refused_page(request, session, me, settings, request_id, refused)
    return RedirectResponse(f"/console/requests/{request_id}?done=decided", status_code=303)


async def refused_page(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    settings: BrokerSettings,
    request_id: str,
    refused: Exception,
) -> HTMLResponse:
    """The request's page again, the refusal in words; what the form did is rolled back."""
    await session.rollback()  # nothing refused changes anything
    words = in_words(refused, language(request))
    return await show(
        request, session, me, settings, request_id, error=words, status_code=status_of(refused)
    )


async def _decision(
    session: SessionDep,
    acting: Acting,
    request_id: str,
    action: str,
    comment: str,
    narrowed: Ticked,
) -> DecisionIn:
    if action in ("reject", "veto"):
        if not comment.strip():
            raise Refused(f"{action}_reason_required")
        return DecisionIn(decision="reject" if action == "reject" else "veto", comment=comment)
    found = await listing.visible_request(session, request_id, acting.own, acting.org_ids)
    if found is None:  # the service answers "not found"
        return DecisionIn(decision="approve", comment=comment or None)
    granted = Grantable(tuple(found.granted_fields), found.granted_start, found.granted_end)
    narrowed_fields, period = narrowing(narrowed.fields, narrowed.end, granted)
    return DecisionIn(
        decision="approve",
        comment=comment or None,
        fields=narrowed_fields if found.fields else None,  # a demand or an IT project: no fields
        period=None if found.kind == "it_project" else period,  # its period is the broker's
    )


@router.post("/requests/{request_id}/answer")
async def answer(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    settings: SettingsDep,
    request_id: str,
    csrf: CsrfField = "",
    answer: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The requester answers the open clarification: the step's clock runs again."""
    refuse_without_csrf(me, csrf)

    async def answering(acting: Acting, now: datetime) -> None:
        if not answer.strip():
            raise Refused("answer_required")
        await clarifications.answer_clarification(
            session, request_id=request_id, acting=acting, answer=answer, now=now
        )

    return await _as_requester(request, session, me, settings, request_id, "answered", answering)


@router.post("/requests/{request_id}/cancel")
async def cancel(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    settings: SettingsDep,
    request_id: str,
    csrf: CsrfField = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    refuse_without_csrf(me, csrf)

    async def withdrawing(acting: Acting, now: datetime) -> None:
        await withdrawal.cancel(
            session, request_id=request_id, acting=acting, reason=reason.strip() or None, now=now
        )

    return await _as_requester(request, session, me, settings, request_id, "cancelled", withdrawing)


async def _as_requester(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    settings: BrokerSettings,
    request_id: str,
    done: str,
    act: Callable[[Acting, datetime], Awaitable[None]],
) -> Response:
    """`act` as the requester's person who files requests (as a person's token says); a
    refusal is the request's page again, in words."""
    now = utcnow()
    acting = await acting_for(session, me.actor, now)
    try:
        if not may_act(me.person.role, Scope.requests_submit):
            raise Refused("not_a_filer", status=403)
        await act(acting, now)
    except (Problem, Refused) as refused:
        return await refused_page(request, session, me, settings, request_id, refused)
    return RedirectResponse(f"/console/requests/{request_id}?done={done}", status_code=303)
