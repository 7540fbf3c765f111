"""Filing a request: validate it against the catalog and directory, plan its route, record it.

Its rows (the request, its steps and their approvers, its events) and its audit entry are built
in memory and then written at once (`filing/writing.py`): on PostgreSQL by one statement after
the context query, so a filing costs four round trips in a transaction (BEGIN, the context, the
write, COMMIT), not eight. On an autocommit session, as the endpoint files it, the context is
the process's copies when it keeps them (`filing/copies.py`): one round trip, the write, which
writes nothing if the directory or the catalog changed since they were read (then read again).
One that cannot be one statement says so (`NeedsTransaction`) before it writes anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.directory import repository as directory_repository
from broker.kit.problems import Problem, ServiceUnavailable
from broker.kit.tracing import TraceContext
from broker.requests import publish
from broker.requests.exceptions import (
    IdempotencyConflict,
    InvalidRequest,
    NoIndependentApprover,
    NotShareable,
)
from broker.requests.filing import repository
from broker.requests.filing.copies import COPIES
from broker.requests.filing.plans import PLANS
from broker.requests.filing.repository import Written
from broker.requests.filing.rows import request_row, route_rows
from broker.requests.filing.schemas import RequestIn
from broker.requests.filing.validation import (
    fingerprint,
    validate_against_catalog,
    validate_other_party,
)
from broker.requests.filing.writing import (
    autocommitting,
    in_one_statement,
    on_postgresql,
    write_filing,
)
from broker.requests.links import Links
from broker.requests.progress import Route, approve_request, begin_step, tell_approvers
from broker.routing import model as routing
from broker.routing.policy import Policy
from core.events import RequestEventName
from core.metrics import instruments
from core.models.requests import DataRequest
from core.outbox import hold_events, take_recorded


class NeedsTransaction(Exception):
    """Raised, before anything is written, by a filing on an autocommit session that cannot be
    written in one statement (on SQLite; a request approved at once, which issues its grant):
    the caller files it again in a transaction."""


@dataclass(frozen=True)
class Filed:
    """What filing did. A request created now comes with what its answer describes, all in
    memory: reading back what was just written cost five SELECTs per filing."""

    request: DataRequest
    created: bool  # False: an idempotent repeat of an earlier filing
    route: Route | None = None
    grant_id: str | None = None  # approved at once, with no step
    cdo_names: Mapping[str, str] = field(default_factory=dict)


# Filings planned again in a row when the directory or the catalog changed between the read of
# what one planned from and its write: each time a change committed within one round trip.
_ATTEMPTS = 5


@dataclass(frozen=True)
class _Filing:
    """What a filing is asked, as the caller gave it."""

    requester: Actor
    body: RequestIn
    idempotency_key: str | None
    trace: TraceContext
    policy: Policy
    now: datetime
    links: Links
    digest: str  # the body's fingerprint


async def file_request(
    session: AsyncSession,
    *,
    requester: Actor,
    body: RequestIn,
    idempotency_key: str | None,
    trace: TraceContext,
    policy: Policy,
    now: datetime,
    links: Links,
) -> Filed:
    """An Idempotency-Key is settled by the database alone: the write writes nothing when the
    unique key (requester, key) is taken, and the request of the key is then read; the context
    read finds it too.

    On an autocommit session (the endpoint's, on PostgreSQL) a dataset request whose requester,
    dataset and owner this process keeps (`filing/copies.py`) is planned from them and the kept
    directory snapshot and written in one round trip, if the directory and the catalog are still
    as they were read; else, or when the kept copies refuse it (a refusal, like an earlier
    request of the key, is told from the database), it is read as in a transaction."""
    if autocommitting(session) and not on_postgresql(session):
        raise NeedsTransaction
    filing = _Filing(requester, body, idempotency_key, trace, policy, now, links, fingerprint(body))
    requester_id = str(requester.org_id)
    database = str(session.get_bind().engine.url)
    kept = (
        COPIES.context(database, requester_id, body.dataset_id)
        if body.dataset_id and body.kind in routing.DATASET_KINDS and autocommitting(session)
        else None
    )
    directory = directory_repository.kept_snapshot(session, now, kept.version) if kept else None
    if kept is not None and directory is not None:
        try:
            filed = await _file(session, filing, kept, directory)
        except Problem:
            filed = None  # decided again from the database
        if filed is not None:
            return filed
        _discard_attempt(session)
    for _ in range(_ATTEMPTS):
        context = await repository.context(
            session, requester_id, body.dataset_id or "", idempotency_key
        )
        if autocommitting(session):  # committed rows only: a transaction's own writes may not be
            COPIES.keep(database, context)
        if context.earlier_id is not None:
            existing = await session.get(DataRequest, context.earlier_id)
            assert existing is not None
            return Filed(_same_or_conflict(existing, filing.digest), created=False)
        directory = await directory_repository.directory_snapshot(session, now, context.version)
        try:
            filed = await _file(session, filing, context, directory)
        except NotShareable:
            instruments().requests.add(1, {"kind": body.kind, "status": "refused"})
            raise
        if filed is not None:
            return filed
        _discard_attempt(session)
    raise ServiceUnavailable(
        "the directory or the catalog changed each time this request was planned; nothing was "
        "written: retry",
        detail_zh="规划审批流程期间目录或数据资源目录反复变更，申请未提交，请重试",
        headers={"Retry-After": "1"},  # the changes that raced it are committed by then
    )


async def _file(
    session: AsyncSession,
    filing: _Filing,
    context: repository.FilingContext,
    directory: directory_repository.DirectorySnapshot,
) -> Filed | None:
    """The filing validated, planned and written from `context` and `directory`; None, with
    nothing written, if the directory or the catalog changed since they were read."""
    body, requester, now = filing.body, filing.requester, filing.now
    requester_id = str(requester.org_id)
    requester_org = context.requester
    assert requester_org is not None
    dataset, owner = context.dataset, context.owner
    if body.kind in routing.DATASET_KINDS:
        if dataset is None:
            raise InvalidRequest(
                f"dataset_id: no dataset '{body.dataset_id}'",
                detail_zh=f"dataset_id: 目录中没有数据资源“{body.dataset_id}”",
                field="dataset_id",
            )
        assert owner is not None
        validate_against_catalog(body, dataset, requester_org, owner, now)
    else:  # a demand names its presumed provider, an IT project is its own body's
        presumed = (
            await repository.organisation(session, body.presumed_provider_id)
            if body.presumed_provider_id
            else None
        )
        owner = validate_other_party(body, requester_org, presumed, now)

    routing_request = routing.RoutingRequest(
        kind=body.kind,
        requester_id=requester_id,
        provider_id=owner.id,
        sharing_class=dataset.sharing_class if dataset else None,
        has_legal_basis=body.legal_basis is not None,
        grade=dataset.grade if dataset else None,
    )
    try:
        planned = PLANS.of(routing_request, directory, filing.policy)
    except routing.NoIndependentApprover as exc:
        raise NoIndependentApprover(
            f"dataset_id: {exc}; nobody but the requester could decide it, so it is not accepted "
            "(have another body file it, or the provider appoint a CDO)",
            detail_zh="dataset_id: 除申请单位外无人可以审批，不予受理"
            "（可由其他单位提交该申请，或由数据提供单位任命首席数据官）",
            field="dataset_id",
        ) from exc
    plan = planned.plan
    if plan.outcome == "refuse":
        raise NotShareable(plan.reason)  # counted by the caller: planned from a copy, it is not

    request = request_row(
        body, requester, dataset=dataset, provider_id=owner.id, rule=plan.rule,
        trace=filing.trace, idempotency_key=filing.idempotency_key, digest=filing.digest, now=now,
    )  # fmt: skip
    route = route_rows(request, plan)
    one_statement = in_one_statement(session, route)
    if not one_statement and autocommitting(session):
        raise NeedsTransaction
    # The route as it is planned, before its first step starts: what the `routed` event tells.
    # Its rows differ from those of another filing of the same plan only by their ids, which it
    # does not show: summarised once per plan.
    if planned.summary is None:
        planned.summary = [
            p.model_dump(mode="json")
            for p in publish.route_summary(route.steps, route.approvers, [])
        ]
    if route.steps:  # started before its first write: no UPDATE follows the INSERTs
        begin_step(request, route.steps[0], now)
    if one_statement:
        hold_events(session)  # `write_filing` takes them: never added to the session's unit of work
    entry = await audit.entry_of(
        session, "request.filed", actor=requester, subject=request.id, now=now,
        kind=request.kind, dataset=request.dataset_id, provider=request.provider_id,
        fields=request.fields,
        period=[request.period_start.isoformat(), request.period_end.isoformat()],
        jurisdiction=request.jurisdiction,
    )  # fmt: skip
    await publish.request_event(
        session, request, RequestEventName.submitted, now=now, actor=requester_id
    )
    if route.steps:
        await publish.request_event(
            session,
            request,
            RequestEventName.routed,
            now=now,
            actor=None,
            rule=plan.rule,
            route=planned.summary,
        )
        await tell_approvers(
            session,
            request,
            route,
            route.steps[0],
            route.current_approvers(route.steps[0]),
            now=now,
            links=filing.links,
            delegates_of=directory.delegates,
            parties=publish.task_parties(request, requester_org, dataset),
        )
    read_at = (context.version, context.catalog) if one_statement else None
    written = await write_filing(session, request, route, entry, read_at=read_at)
    if written is Written.stale:
        return None
    if written is Written.key_used:
        # An earlier or concurrent filing with this key; nothing of this one was written.
        key = filing.idempotency_key
        if key is None:
            raise AssertionError(f"{request.id}: not written, and no Idempotency-Key to blame")
        existing = await repository.by_idempotency_key(session, requester_id, key)
        if existing is None:
            raise AssertionError(f"{request.id}: not written, and no request of its key")
        return Filed(_same_or_conflict(existing, filing.digest), created=False)
    instruments().requests.add(
        1, {"kind": body.kind, "status": "approved" if not route.steps else "pending"}
    )
    if not route.steps:
        grant = await approve_request(session, request, [], now=now, actor=requester)
        return Filed(request, created=True, route=route, grant_id=grant.id if grant else None)
    return Filed(request, created=True, route=route, cdo_names=directory.cdo_names)


def _discard_attempt(session: AsyncSession) -> None:
    """An attempt that wrote nothing leaves nothing to the next: its held events (a refusal may
    leave them; a write takes them) and, on an autocommit session, the audit chain chosen for its
    request (in a transaction an earlier write may hold it: kept, one chain a transaction)."""
    take_recorded(session)
    if autocommitting(session):
        audit.release_chain(session)


def _same_or_conflict(existing: DataRequest, digest: str) -> DataRequest:
    if existing.fingerprint != digest:
        raise IdempotencyConflict(existing.id)
    return existing
