"""The forms on a request's page: the decision form of the body whose turn it is (approve,
approve narrowed, reject, veto, ask a clarification) and the requester's answer to a
clarification and withdrawal. The same services and rules as the API; a refusal is the page
again, in words, and changes nothing (request_page.RequestPage.outcome)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response

from broker.console.narrowing import Ticked, TickedDep, narrowing
from broker.console.refusals import Refused
from broker.console.request_page import RequestFormDep, RequestPage
from broker.oauth.dependencies import KeyRingDep
from broker.oauth.keys import KeyRing
from broker.oauth.scopes import Scope
from broker.requests import clarifications, decisions, withdrawal
from broker.requests.access import Acting
from broker.requests.dependencies import LinksDep
from broker.requests.lifecycle import Grantable
from broker.requests.links import Links
from broker.requests.schemas import ClarificationIn, DecisionIn

router = APIRouter()


@router.post("/requests/{request_id}/decision")
async def decide(
    page: RequestFormDep,
    links: LinksDep,
    keyring: KeyRingDep,
    action: Annotated[str, Form(pattern="^(approve|reject|veto|clarify)$")],
    narrowed: TickedDep,
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    deciding = _deciding(page, action, comment, narrowed, links, keyring)
    return await page.outcome(deciding, done="decided")


async def _deciding(
    page: RequestPage, action: str, comment: str, narrowed: Ticked, links: Links, keyring: KeyRing
) -> None:
    acting, now = await page.acting_as(Scope.approvals_decide, "deciders_only")
    if action == "clarify":
        if not comment.strip():
            raise Refused("question_required")
        asked = ClarificationIn(question=comment.strip())  # the API's rules for a question
        await clarifications.ask_clarification(
            page.session, request_id=page.request_id, acting=acting, question=asked.question,
            now=now,
        )  # fmt: skip
        return
    body = await _decision(page, acting, action, comment, narrowed)
    await decisions.decide(
        page.session, request_id=page.request_id, acting=acting, body=body, now=now,
        links=links, keyring=keyring,
        require_person=True,
    )  # fmt: skip


async def _decision(
    page: RequestPage, acting: Acting, action: str, comment: str, narrowed: Ticked
) -> DecisionIn:
    if action in ("reject", "veto"):
        if not comment.strip():
            raise Refused(f"{action}_reason_required")
        return DecisionIn(decision="reject" if action == "reject" else "veto", comment=comment)
    found = await page.visible(acting)
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
    page: RequestFormDep,
    answer: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The requester answers the open clarification: the step's clock runs again."""
    return await page.outcome(_answering(page, answer), done="answered")


async def _answering(page: RequestPage, answer: str) -> None:
    acting, now = await page.acting_as(Scope.requests_submit, "not_a_filer")
    if not answer.strip():
        raise Refused("answer_required")
    await clarifications.answer_clarification(
        page.session, request_id=page.request_id, acting=acting, answer=answer, now=now
    )


@router.post("/requests/{request_id}/cancel")
async def cancel(
    page: RequestFormDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return await page.outcome(_withdrawing(page, reason), done="cancelled")


async def _withdrawing(page: RequestPage, reason: str) -> None:
    acting, now = await page.acting_as(Scope.requests_submit, "not_a_filer")
    await withdrawal.cancel(
        page.session, request_id=page.request_id, acting=acting, reason=reason.strip() or None,
        now=now,
    )  # fmt: skip
