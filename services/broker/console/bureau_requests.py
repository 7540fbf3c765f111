"""督办 for the data bureau: the pending requests of its jurisdiction that are overdue, on hold
waiting for the requester, escalated, or untouched for days, the most overdue first. A request
is the bureau's when its requester, its provider or a body deciding its current step is in the
bureau's jurisdiction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from broker.console import repository
from broker.console.bureau import BureauDep
from broker.console.names import dataset_names, organisation_names
from broker.console.tasks import is_overdue
from broker.console.web import language, render, time_left
from broker.kit.deps import SessionDep
from broker.requests import views
from broker.requests.schemas import RequestOut, StepOut
from core.clock import utcnow

router = APIRouter()

IDLE = timedelta(days=3)  # a pending request nobody moved for this long needs a look
MAX_WATCHED = 500


@dataclass(frozen=True)
class Watched:
    request: RequestOut
    step: StepOut | None
    overdue: bool
    on_hold: bool
    escalated: bool
    idle: bool


def watch_of(r: RequestOut, now: datetime) -> Watched | None:
    """Why a pending request needs the bureau's eye; None when it is on its way."""
    step = r.route[r.current_step] if r.current_step is not None else None
    watched = Watched(
        request=r,
        step=step,
        overdue=step is not None and is_overdue(step, now),
        on_hold=step is not None and step.on_hold_since is not None,
        escalated=step is not None and step.escalations > 0,
        idle=r.updated_at < now - IDLE,
    )
    if not (watched.overdue or watched.on_hold or watched.escalated or watched.idle):
        return None
    return watched


def _most_pressing(w: Watched) -> tuple[bool, datetime]:
    due = w.step.due_at if w.step and w.step.due_at else w.request.updated_at
    return (not w.overdue, due)


@router.get("/bureau/requests")
async def watched_requests(
    request: Request, session: SessionDep, bureau: BureauDep
) -> HTMLResponse:
    now = utcnow()
    lang = language(request)
    described = await views.describe(
        session, await repository.pending_in(session, bureau.covered, limit=MAX_WATCHED), now
    )
    watched = sorted(
        (w for r in described if (w := watch_of(r, now)) is not None), key=_most_pressing
    )
    orgs = [r.requester_id for r in described] + [
        a.organisation_id for w in watched if w.step for a in w.step.approvers if a.current
    ]
    return render(
        request,
        "bureau_requests.html",
        me=bureau.me,
        watched=watched,
        names=await organisation_names(session, orgs, lang),
        datasets=await dataset_names(session, [r.dataset_id for r in described], lang),
        left=lambda due: time_left(due, now, lang),
    )
