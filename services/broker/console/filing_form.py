"""The staff's filing form: pick a dataset from the catalog, tick the fields, say what for,
give the period as dates; a share request (共享), or a return request (回流) for data held above
the body's level, naming the division of its jurisdiction the data concerns. Filed through the
same service as `POST /v1/requests`; a form token makes a double submit file once (the
idempotency key)."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from broker.catalog import service as catalog
from broker.console.dates import CHINA, end_of_day, start_of_day
from broker.console.names import divisions_within, organisation_names
from broker.console.outcomes import REFUSALS, refused_again
from broker.console.refusals import Refused
from broker.console.session import PosterDep, SignedInDep, may_act
from broker.console.web import language, render
from broker.kit.deps import SessionDep
from broker.kit.tracing import current_trace
from broker.oauth.scopes import Scope
from broker.requests.dependencies import LinksDep, PolicyDep
from broker.requests.filing import service as filing
from broker.requests.filing.schemas import PeriodIn, RequestIn
from core.clock import utcnow
from core.models.catalog import Dataset, DatasetStatus
from core.models.directory import Organisation

router = APIRouter()


async def _form(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    dataset_id: str | None,
    *,
    error: str | None = None,
    status_code: int = 200,
    values: dict[str, object] | None = None,
) -> HTMLResponse:
    lang = language(request)
    datasets = await catalog.list_datasets(
        session, owner_id=None, sharing_class=None, after=None, limit=500,
        status=DatasetStatus.published,
    )  # fmt: skip
    chosen = await session.get(Dataset, dataset_id) if dataset_id else None
    requester = await session.get(Organisation, me.person.organisation_id)
    assert requester is not None  # a person's organisation is a foreign key
    today = utcnow().astimezone(CHINA).date()
    fresh = {"kind": "share", "start": today, "end": today + timedelta(days=364),
             "jurisdiction": requester.division_code}  # fmt: skip
    return render(
        request,
        "file.html",
        status_code=status_code,
        me=me,
        datasets=datasets,
        chosen=chosen,
        owner=(await organisation_names(session, [chosen.owner_id], lang)) if chosen else {},
        divisions=await divisions_within(session, requester.division_code, lang),
        token=secrets.token_urlsafe(16),
        error=error,
        values=values or fresh,
    )


@router.get("/requests/new")
async def new_request(
    request: Request, session: SessionDep, me: SignedInDep, dataset_id: str | None = None
) -> HTMLResponse:
    return await _form(request, session, me, dataset_id)


@router.post("/requests/new")
async def file_request(
    request: Request,
    session: SessionDep,
    me: PosterDep,
    policy: PolicyDep,
    links: LinksDep,
    dataset_id: Annotated[str, Form(max_length=100)],
    purpose: Annotated[str, Form(max_length=2000)],
    start: Annotated[date, Form()],
    end: Annotated[date, Form()],
    token: Annotated[str, Form(max_length=100)] = "",
    fields: Annotated[list[str] | None, Form()] = None,
    legal_basis: Annotated[str, Form(max_length=2000)] = "",
    kind: Annotated[Literal["share", "return"], Form()] = "share",
    jurisdiction: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    values: dict[str, object] = {
        "kind": kind, "purpose": purpose, "legal_basis": legal_basis, "start": start,
        "end": end, "fields": fields or [], "jurisdiction": jurisdiction,
    }  # fmt: skip
    try:
        if not may_act(me.person.role, Scope.requests_submit):  # as a person's token says
            raise Refused("not_a_filer", status=403)
        body = RequestIn(
            kind=kind,
            dataset_id=dataset_id,
            fields=fields or [],
            purpose=purpose,
            legal_basis=legal_basis or None,
            period=PeriodIn(start=start_of_day(start), end=end_of_day(end)),
            # only a return names the division it covers (the form keeps the choice for both)
            jurisdiction=(jurisdiction or None) if kind == "return" else None,
        )
        filed = await filing.file_request(
            session, requester=me.actor, body=body, idempotency_key=token or None,
            trace=current_trace(None), policy=policy, now=utcnow(), links=links,
        )  # fmt: skip
    except REFUSALS as refused:
        again = partial(_form, request, session, me, dataset_id, values=values)
        return await refused_again(request, session, refused, again)
    await session.commit()
    return RedirectResponse(f"/console/requests/{filed.request.id}?filed=1", status_code=303)
