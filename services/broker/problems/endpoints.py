"""Problem reports API (问题反映): file one with the provincial data bureau, list what you filed
or must answer, answer one. Thin: the rules are in the service."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response, status

from broker.kit.deps import SessionDep
from broker.kit.pagination import CursorQuery, LimitQuery, Page, fetch, page_of
from broker.kit.problem_docs import problems
from broker.oauth.principal import Principal, RequestsReaderDep, RequestsSubmitterDep, require_scope
from broker.oauth.scopes import Scope
from broker.problems import repository, service
from broker.problems.schemas import AnswerIn, Concerns, ProblemIn, ProblemOut
from broker.requests.dependencies import LinksDep
from core.clock import utcnow
from core.models.problems import ProblemReport

router = APIRouter(prefix="/v1/reports/problems", tags=["problems"])

Answerer = Annotated[Principal, Depends(require_scope(Scope.approvals_decide))]


def _out(report: ProblemReport) -> ProblemOut:
    return ProblemOut(
        id=report.id,
        status=report.status,  # type: ignore[arg-type]
        reporter_id=report.reporter_id,
        addressed_to=report.addressed_to,
        summary=report.summary,
        details=report.details,
        concerns=Concerns(
            organisations=list(report.concerned_organisations),
            requests=list(report.concerned_requests),
        ),
        resolution=report.resolution,
        created_at=report.created_at,
        answered_at=report.answered_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Report a coordination problem to the provincial data bureau",
    responses=problems(503),
)
async def file_problem(
    body: ProblemIn,
    links: LinksDep,
    response: Response,
    session: SessionDep,
    caller: RequestsSubmitterDep,
) -> ProblemOut:
    report = await service.file_problem(
        session,
        reporter=caller.actor,
        body=body,
        now=utcnow(),
        links=links,
    )
    response.headers["Location"] = f"/v1/reports/problems/{report.id}"
    return _out(report)


@router.get(
    "",
    summary="Problem reports your organisation filed, must answer, or is named in",
    description="`role`: `reporter` (filed), `answerer` (the provincial bureau's queue) or "
    "`named` (reports about your organisation); none: all three.",
)
async def list_problems(
    session: SessionDep,
    caller: RequestsReaderDep,
    status: Literal["open", "answered"] | None = None,
    role: Literal["reporter", "answerer", "named"] | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[ProblemOut]:
    rows = await repository.list_for(
        session,
        caller.organisation_id,
        role=role,
        status=status,
        **fetch(cursor, limit),
    )
    return page_of([_out(r) for r in rows[:limit]], rows, limit)


@router.get("/{problem_id}", summary="One problem report")
async def get_problem(
    problem_id: str, session: SessionDep, caller: RequestsReaderDep
) -> ProblemOut:
    return _out(await service.visible_problem(session, problem_id, caller.organisation_id))


@router.post(
    "/{problem_id}/answer",
    summary="Answer a problem report (the provincial data bureau), once",
    responses=problems(409),
)
async def answer_problem(
    problem_id: str, body: AnswerIn, links: LinksDep, session: SessionDep, caller: Answerer
) -> ProblemOut:
    report = await service.answer_problem(
        session,
        problem_id=problem_id,
        answerer=caller.actor,
        resolution=body.resolution,
        now=utcnow(),
        links=links,
    )
    return _out(report)
