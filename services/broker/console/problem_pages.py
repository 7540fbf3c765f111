"""Problem reports (问题反映) in the console: the provincial data bureau's queue to answer, what my
body reported and what names it; the form to report a coordination problem (a body that does
not answer, a dataset missing from the catalog, a refused return), reached from a request's page
with the request and its provider filled in; a report's page with the bureau's answer form. The
same services and rules as `/v1/reports/problems`; a refusal is shown in words."""

from __future__ import annotations

import re
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from broker.console.names import organisation_names
from broker.console.outcomes import REFUSALS, outcome, refused_again
from broker.console.refusals import Refused
from broker.console.session import PosterDep, SignedInDep, may_act
from broker.console.web import language, render
from broker.kit.deps import SessionDep
from broker.oauth.scopes import Scope
from broker.people.sessions import SignedIn
from broker.problems import repository, service
from broker.problems.exceptions import ProblemNotFound
from broker.problems.schemas import MAX_CONCERNED, Concerns, ProblemIn
from broker.requests.dependencies import LinksDep
from broker.requests.links import Links
from core.clock import utcnow
from core.models.problems import ProblemReport

router = APIRouter()
SHOWN = 100
_IDS = re.compile(r"[\s,，、;；]+")


def _ids(typed: str) -> list[str]:
    """Ids as people type them: separated by spaces, commas (either width), 、 or semicolons;
    each once, in the order typed."""
    return list(dict.fromkeys(part for part in _IDS.split(typed.strip()) if part))[
        : MAX_CONCERNED + 1
    ]


async def _names(session: SessionDep, reports: list[ProblemReport], lang: str) -> dict[str, str]:
    orgs = {o for r in reports for o in (r.reporter_id, r.addressed_to, *r.concerned_organisations)}
    return await organisation_names(session, orgs, lang)


@router.get("/problems")
async def problems(request: Request, session: SessionDep, me: SignedInDep) -> HTMLResponse:
    own = me.person.organisation_id
    lists: dict[str, list[ProblemReport]] = {
        role: list(
            await repository.list_for(session, own, role=role, status=None, after=None, limit=SHOWN)
        )
        for role in ("answerer", "reporter", "named")
    }
    # the bureau's queue: open reports first, the oldest first, as they wait longest
    lists["answerer"].sort(key=lambda r: (r.status != "open", r.created_at))
    every = [r for rows in lists.values() for r in rows]
    return render(
        request,
        "problems.html",
        me=me,
        lists=lists,
        may_report=may_act(me.person.role, Scope.requests_submit),
        names=await _names(session, every, language(request)),
    )


async def _form(
    request: Request,
    me: SignedInDep,
    values: dict[str, str],
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request, "problem_new.html", status_code=status_code, me=me, values=values, error=error
    )


@router.get("/problems/new")
async def new_problem(
    request: Request, me: SignedInDep, request_id: str = "", organisation_id: str = ""
) -> HTMLResponse:
    values = {"requests": request_id[:100], "organisations": organisation_id[:100]}
    return await _form(request, me, values)


@router.post("/problems/new")
async def file_problem(
    request: Request,
    session: SessionDep,
    me: PosterDep,
    links: LinksDep,
    summary: Annotated[str, Form(max_length=200)] = "",
    details: Annotated[str, Form(max_length=8000)] = "",
    organisations: Annotated[str, Form(max_length=4000)] = "",
    requests: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    values = {"summary": summary, "details": details, "organisations": organisations,
              "requests": requests}  # fmt: skip
    try:
        if not may_act(me.person.role, Scope.requests_submit):
            raise Refused("reporters_only", status=403)
        if len(summary.strip()) < 2 or len(details.strip()) < 2:
            raise Refused("problem_text_required")
        body = ProblemIn(
            summary=summary.strip(),
            details=details.strip(),
            concerns=Concerns(organisations=_ids(organisations), requests=_ids(requests)),
        )
        report = await service.file_problem(
            session, reporter=me.actor, body=body, now=utcnow(), links=links
        )
    except REFUSALS as refused:
        return await refused_again(request, session, refused, partial(_form, request, me, values))
    return RedirectResponse(f"/console/problems/{report.id}?filed=1", status_code=303)


async def show_problem(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    problem_id: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    own = me.person.organisation_id
    try:
        report = await service.visible_problem(session, problem_id, own)
    except ProblemNotFound:
        return render(request, "refused.html", status_code=404, message="problem_not_found", me=me)
    context: dict[str, Any] = {
        "p": report,
        "may_answer": report.status == "open"
        and report.addressed_to == own
        and may_act(me.person.role, Scope.approvals_decide),
        "names": await _names(session, [report], language(request)),
    }
    return render(request, "problem.html", status_code=status_code, me=me, error=error, **context)


@router.get("/problems/{problem_id}")
async def problem_view(
    request: Request, session: SessionDep, me: SignedInDep, problem_id: str
) -> HTMLResponse:
    return await show_problem(request, session, me, problem_id)


@router.post("/problems/{problem_id}/answer")
async def answer_problem(
    request: Request,
    session: SessionDep,
    me: PosterDep,
    links: LinksDep,
    problem_id: str,
    resolution: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    answering = _answering(session, me, problem_id, resolution, links)
    again = partial(show_problem, request, session, me, problem_id)
    done = f"/console/problems/{problem_id}?answered=1"
    return await outcome(request, session, answering, again, done)


async def _answering(
    session: AsyncSession, me: SignedIn, problem_id: str, resolution: str, links: Links
) -> None:
    if not may_act(me.person.role, Scope.approvals_decide):
        raise Refused("answerers_only", status=403)
    if len(resolution.strip()) < 2:
        raise Refused("resolution_required")
    await service.answer_problem(
        session, problem_id=problem_id, answerer=me.actor, resolution=resolution.strip(),
        now=utcnow(), links=links,
    )  # fmt: skip
