"""The console's lists: 待办 (my tasks, the appeals my body coordinates and the problem reports it
answers, and its self-refreshing fragment), my body's requests and its grants. A request's page
is request_page.py (its forms request_forms.py, its appeal forms appeal_forms.py), the filing
form filing_form.py, problem reports problem_pages.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from broker.console import (
    appeal_forms,
    bureau_directory,
    bureau_grants,
    bureau_requests,
    catalog_page,
    evaluation,
    filing_form,
    problem_pages,
    request_forms,
    request_page,
)
from broker.console.names import dataset_names, organisation_names
from broker.console.session import SignedInDep, may_act
from broker.console.tasks import MAX_TASKS, my_appeals, my_tasks
from broker.console.web import language, render, time_left
from broker.grants import service as grants
from broker.grants.shown import shown
from broker.kit.deps import RedisDep, SessionDep
from broker.oauth.scopes import Scope
from broker.problems import repository as problems
from broker.requests import views
from broker.requests.access import acting_for
from broker.requests.repository import listing
from core.clock import utcnow

router = APIRouter(prefix="/console", include_in_schema=False)
router.include_router(filing_form.router)  # before /requests/{request_id}: "new" is no id
router.include_router(request_page.router)
router.include_router(request_forms.router)
router.include_router(catalog_page.router)
for bureau_pages in (bureau_requests, bureau_grants, bureau_directory, evaluation):
    router.include_router(bureau_pages.router)
router.include_router(appeal_forms.router)
router.include_router(problem_pages.router)


async def _tasks_context(request: Request, session: SessionDep, me: SignedInDep) -> dict[str, Any]:
    now = utcnow()
    lang = language(request)
    acting = await acting_for(session, me.actor, now)
    tasks = await my_tasks(session, acting, now)
    appeals = await my_appeals(session, acting, now)
    reports = await problems.list_for(
        session, acting.own, role="answerer", status="open", after=None, limit=MAX_TASKS
    )
    requests = [t.request for t in tasks] + appeals
    return {
        "me": me,
        "tasks": tasks,
        "appeals": appeals,
        "reports": sorted(reports, key=lambda r: r.created_at),
        "names": await organisation_names(
            session,
            [r.requester_id for r in requests]
            + [t.for_org for t in tasks]
            + [p.reporter_id for p in reports],
            lang,
        ),
        "datasets": await dataset_names(session, [r.dataset_id for r in requests], lang),
        "left": lambda due: time_left(due, now, lang),
    }


@router.get("/")
async def home(request: Request, session: SessionDep, me: SignedInDep) -> Response:
    if not may_act(me.person.role, Scope.approvals_decide):
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
    rows = await listing.list_requests(
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
async def my_grants(
    request: Request, session: SessionDep, redis: RedisDep, me: SignedInDep
) -> HTMLResponse:
    lang = language(request)
    rows = await grants.list_grants(
        session, org_id=me.person.organisation_id, role=None, status=None, dataset_id=None,
        after=None, limit=100,
    )  # fmt: skip
    return render(
        request,
        "grants.html",
        me=me,
        grants=await shown(session, redis, rows),
        names=await organisation_names(
            session, [g.grantee_id for g in rows] + [g.provider_id for g in rows], lang
        ),
        datasets=await dataset_names(session, [g.dataset_id for g in rows], lang),
    )
