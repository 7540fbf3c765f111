"""Requests API: file, read, list, decide, clarify, cancel. Thin: the rules are in the services."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request, Response, Security, status
from sqlalchemy.ext.asyncio import AsyncSession

from broker.kit.deps import (
    RATE_LIMITER,
    REDIS,
    SETTINGS,
    SessionDep,
    SettingsDep,
    sessions_of,
)
from broker.kit.pagination import CursorQuery, LimitQuery, Page, fetch, page_of
from broker.kit.problem_docs import problems
from broker.kit.ratelimit import RateLimited
from broker.kit.tracing import current_trace
from broker.oauth.dependencies import EXTERNAL_ISSUER, KEYRING, KeyRingDep
from broker.oauth.principal import (
    Principal,
    RequestsReaderDep,
    bearer_token,
    checks_token,
    revoked,
    scoped,
    signed,
    token_revoked,
)
from broker.oauth.scopes import Scope
from broker.requests import appeal_decisions, appeals, clarifications, decisions, views, withdrawal
from broker.requests.access import acting_for
from broker.requests.dependencies import (
    ROUTING_POLICY,
    DecidersWrite,
    LinksDep,
    PolicyDep,
    RequestersWrite,
    links_of,
)
from broker.requests.exceptions import RequestNotFound
from broker.requests.filing import service as filing
from broker.requests.filing.schemas import RequestIn, RequestKind
from broker.requests.lifecycle import RequestStatus
from broker.requests.repository import listing
from broker.requests.schemas import (
    AppealDecisionIn,
    AppealIn,
    CancelIn,
    ClarificationAnswerIn,
    ClarificationIn,
    DecisionIn,
    RequestOut,
)
from broker.requests.timeline import Timeline, timeline_of
from broker.settings import Rate
from core.clock import utcnow
from core.models.requests import DataRequest

router = APIRouter(prefix="/v1/requests", tags=["requests"])
# The writes on one request: each answers 409 when the request's state refuses it (closed, decided
# otherwise, no clarification open, appealed already). `router` includes them at the module's end.
writes = APIRouter(responses=problems(409))


_SUBMIT = Scope.requests_submit


@checks_token(_SUBMIT)
async def _admitted_submitter(
    request: Request,
    _documented: Annotated[str | None, Security(bearer_token, scopes=[_SUBMIT.value])],
) -> Principal:
    """The caller, as `RequestsSubmitterDep` checks it, within RATE_LIMIT_SUBMIT filings per
    organisation (all its clients together). Counted after the token is checked so that nobody
    else can use up an organisation's allowance: its revocation and the count are one Redis
    script (one round trip), which counts nothing for a revoked token. It reads the app's
    resources itself (kit/deps.py): five dependencies solved on every filing were CPU for
    nothing, and none of them shows in the OpenAPI document."""
    settings, redis = SETTINGS.of(request), REDIS.of(request)
    caller = await signed(request, KEYRING.of(request), EXTERNAL_ISSUER.of(request), settings)
    if _SUBMIT.value not in caller.principal.scopes and await revoked(redis, caller):
        raise token_revoked()  # revocation is answered before the scope, as on every route
    principal = scoped(caller.principal, _SUBMIT)
    rate = settings.rate_limit_submit
    wait, refused = await RATE_LIMITER.of(request).hit_unless(
        "submit", principal.organisation_id, Rate.parse(rate), caller.revocation_keys
    )
    if refused or (refused is None and await revoked(redis, caller)):
        raise token_revoked()
    if wait:
        raise RateLimited(
            f"more than {rate} requests filed by {principal.organisation_id}",
            wait,
            detail_zh=f"“{principal.organisation_id}”提交申请过于频繁（上限 {rate}），"
            f"请 {wait} 秒后再试",
        )
    return principal


RateLimitedSubmitter = Annotated[Principal, Depends(_admitted_submitter)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, description="retry safely"),
]


async def _described(session: SessionDep, request: DataRequest, now: datetime) -> RequestOut:
    return (await views.describe(session, [request], now))[0]


async def _one(session: SessionDep, request_id: str) -> RequestOut:
    request = await session.get(DataRequest, request_id)
    if request is None:
        raise RequestNotFound(request_id)
    return await _described(session, request, utcnow())


async def _visible(request_id: str, session: SessionDep, caller: RequestsReaderDep) -> DataRequest:
    """The request the path names, if the caller's body filed it or decides one of its steps
    (itself or by delegation); else 404, as for a request that does not exist."""
    acting = await acting_for(session, caller.actor, utcnow())
    request = await listing.visible_request(session, request_id, acting.own, acting.org_ids)
    if request is None:
        raise RequestNotFound(request_id)
    return request


VisibleRequest = Annotated[DataRequest, Depends(_visible)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="File a data-sharing request",
    responses=problems(409, 429),
)
async def file_request(
    body: RequestIn,
    http: Request,
    response: Response,
    caller: RateLimitedSubmitter,
    idempotency_key: IdempotencyKey = None,
) -> RequestOut:
    # The sessions, the policy and the links are read here, not solved as dependencies (each is
    # CPU on every filing; none is in the OpenAPI document).
    file = partial(
        filing.file_request,
        requester=caller.actor,
        body=body,
        idempotency_key=idempotency_key,
        trace=current_trace(http.headers.get("traceparent")),
        policy=ROUTING_POLICY.of(http),
        now=utcnow(),
        links=links_of(http),
    )
    sessions = sessions_of(http)
    try:
        # On PostgreSQL a filing writes in one statement: no transaction around it (BEGIN and
        # COMMIT are two round trips more). One that cannot says so before it writes anything.
        async with sessions.session(autocommit=True) as session:
            return await _filed(session, response, await file(session))
    except filing.NeedsTransaction:
        async with sessions.session() as session:
            return await _filed(session, response, await file(session))


async def _filed(session: AsyncSession, response: Response, filed: filing.Filed) -> RequestOut:
    response.headers["Location"] = f"/v1/requests/{filed.request.id}"
    if not filed.created:
        response.status_code = status.HTTP_200_OK
        return await _described(session, filed.request, utcnow())
    return views.describe_filed(filed)


@router.get("/{request_id}", summary="One request with its route")
async def get_request(session: SessionDep, request: VisibleRequest) -> RequestOut:
    return await _described(session, request, utcnow())


@router.get("/{request_id}/timeline", summary="Every event and webhook of a request, in order")
async def timeline(session: SessionDep, settings: SettingsDep, request: VisibleRequest) -> Timeline:
    return await timeline_of(session, request, settings.trace_ui_url)


@router.get("", summary="Requests your organisation filed or must decide")
async def list_requests(
    session: SessionDep,
    caller: RequestsReaderDep,
    status: RequestStatus | None = None,
    kind: RequestKind | None = None,
    dataset_id: str | None = None,
    role: Literal["requester", "approver"] | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[RequestOut]:
    acting = await acting_for(session, caller.actor, utcnow())
    rows = await listing.list_requests(
        session,
        own=acting.own,
        approving_for=acting.org_ids,
        role=role,
        status=status,
        kind=kind,
        dataset_id=dataset_id,
        **fetch(cursor, limit),
    )
    return page_of(await views.describe(session, rows[:limit], utcnow()), rows, limit)


@writes.post("/{request_id}/decision", summary="Approve or reject the current step")
async def decide(
    body: DecisionIn,
    session: SessionDep,
    write: DecidersWrite,
    settings: SettingsDep,
    links: LinksDep,
    keyring: KeyRingDep,
) -> RequestOut:
    request, route, known = await decisions.decide(
        session,
        **write,
        body=body,
        links=links,
        keyring=keyring,
        require_person=settings.decisions_require_person,
    )
    return await views.describe_routed(session, request, route, write["now"], known)


@writes.post("/{request_id}/cancel", summary="Withdraw an undecided request")
async def cancel(
    session: SessionDep, write: RequestersWrite, body: CancelIn | None = None
) -> RequestOut:
    request = await withdrawal.cancel(session, **write, reason=body.reason if body else None)
    return await _described(session, request, write["now"])


@writes.post(
    "/{request_id}/clarifications",
    status_code=status.HTTP_201_CREATED,
    summary="Put the current step on hold and ask the requester",
)
async def ask(body: ClarificationIn, session: SessionDep, write: DecidersWrite) -> RequestOut:
    await clarifications.ask_clarification(session, **write, question=body.question)
    return await _one(session, write["request_id"])


@writes.post("/{request_id}/clarifications/answer", summary="Answer the open clarification")
async def answer(
    body: ClarificationAnswerIn, session: SessionDep, write: RequestersWrite
) -> RequestOut:
    await clarifications.answer_clarification(session, **write, answer=body.answer)
    return await _one(session, write["request_id"])


@writes.post(
    "/{request_id}/appeal",
    status_code=status.HTTP_201_CREATED,
    summary="Appeal a rejection or a narrowed approval to the CDO above (申请协调), once",
)
async def appeal(
    body: AppealIn, session: SessionDep, write: RequestersWrite, policy: PolicyDep, links: LinksDep
) -> RequestOut:
    await appeals.file_appeal(session, **write, reason=body.reason, policy=policy, links=links)
    return await _one(session, write["request_id"])


@writes.post(
    "/{request_id}/appeal/decision", summary="Uphold or overturn an appeal (the coordinating CDO)"
)
async def decide_appeal(
    body: AppealDecisionIn, session: SessionDep, write: DecidersWrite, settings: SettingsDep
) -> RequestOut:
    request = await appeal_decisions.decide_appeal(
        session, **write, body=body, require_person=settings.decisions_require_person
    )
    return await _described(session, request, write["now"])


router.include_router(writes)
