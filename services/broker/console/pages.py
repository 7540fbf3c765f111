"""The console's lists: 待办 (my tasks, and its self-refreshing fragment), my body's requests and
its grants. A request's page is request_page.py, the filing form filing_form.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from broker.console import filing_form, request_page
from broker.console.names import dataset_names, organisation_names
from broker.console.session import SignedInDep
from broker.console.tasks import my_tasks
from broker.console.web import language, render, time_left
from broker.grants import service as grants
from broker.kit.deps import SessionDep
from broker.requests import repository, views
from broker.requests.access import acting_for
from core.clock import utcnow

router = APIRouter(prefix="/console", include_in_schema=False)
router.include_router(filing_form.router)  # before /requests/{request_id}: "new" is no id
router.include_router(request_page.router)

DECIDING_ROLES = ("cdo", "bureau_operator")


async def _tasks_context(request: Request, session: SessionDep, me: SignedInDep) -> dict[str, Any]:
    now = utcnow()
    lang = language(request)
    tasks = await my_tasks(session, await acting_for(session, me.actor, now), now)
    return {
        "me": me,
        "tasks": tasks,
        "names": await organisation_names(session, [t.request.requester_id for t in tasks], lang),
        "datasets": await dataset_names(session, [t.request.dataset_id for t in tasks], lang),
        "left": lambda due: time_left(due, now, lang),
    }


@router.get("/")
async def home(request: Request, session: SessionDep, me: SignedInDep) -> Response:
    if me.person.role not in DECIDING_ROLES:
        return RedirectResponse("/console/requests", status_code=303)
    return render(request, "tasks.html", **await _tasks_context(request, session, me))


@router.get("/tasks")
async def tasks_fragment(request: Request, session: SessionDep, me: SignedInDep) -> HTMLResponse:
    return render(request, "tasks_list.html", **await _tasks_context(request, session, me))


@router.get("/requests")
async def my_requests(request: Request, session: SessionDep, me: SignedInDep) -> HTMLResponse:
    now = utcnow()
    lang = language(request)
    acting = await acting_for(session, me.actor, now)
    rows = await repository.list_requests(
        session, own=acting.own, approving_for=acting.org_ids, role=None, status=None,
        kind=None, dataset_id=None, after=None, limit=100,
    )  # fmt: skip
    described = await views.describe(session, rows, now)
    return render(
        request,
        "requests.html",
        me=me,
        requests=described,
        names=await organisation_names(session, [r.requester_id for r in described], lang),
        datasets=await dataset_names(session, [r.dataset_id for r in described], lang),
    )


@router.get("/grants")
async def my_grants(request: Request, session: SessionDep, me: SignedInDep) -> HTMLResponse:
    lang = language(request)
    rows = await grants.list_grants(
        session, org_id=me.person.organisation_id, role=None, status=None, dataset_id=None,
        after=None, limit=100,
    )  # fmt: skip
    return render(
        request,
        "grants.html",
        me=me,
        grants=rows,
        names=await organisation_names(
            session, [g.grantee_id for g in rows] + [g.provider_id for g in rows], lang
        ),
        datasets=await dataset_names(session, [g.dataset_id for g in rows], lang),
    )
