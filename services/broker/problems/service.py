"""Filing a problem report with the provincial data bureau, and its answer.

Whatever is named must exist, and a request named must be one the reporter may see (404's rule:
naming a request is no way to learn that it exists). Each change is audited with who did it and
told through an event on `datashare.requests` written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.calendar.deadlines import china_time
from broker.kit.attributes import attributes
from broker.kit.lookups import found
from broker.problems import repository
from broker.problems.exceptions import (
    InvalidConcern,
    NoProvincialBureau,
    NotTheAnsweringBureau,
    ProblemAlreadyAnswered,
    ProblemNotFound,
)
from broker.problems.schemas import Concerns, ProblemIn
from broker.requests.access import acting_for
from broker.requests.links import Links
from broker.requests.repository.listing import visible_request_ids
from core import topics
from core.events import ProblemConcerns, ProblemEvent, ProblemEventName, ce_type
from core.ids import new_id
from core.models.problems import ProblemReport
from core.outbox import record_event

# What a report's event copies of the report, under the report's own names.
_COPIED = (
    "status",
    "reporter_id",
    "addressed_to",
    "summary",
    "details",
    "resolution",
    "answered_at",
)


async def file_problem(
    session: AsyncSession, *, reporter: Actor, body: ProblemIn, now: datetime, links: Links
) -> ProblemReport:
    bureau = await repository.provincial_bureau(session)
    if bureau is None:
        raise NoProvincialBureau(
            "the directory has no provincial data bureau to receive the report",
            detail_zh="目录中没有省政务服务数据管理局，问题反映无处受理",
        )
    await _check_concerns(session, reporter, body.concerns, now)
    report = ProblemReport(
        id=new_id("prb"),
        reporter_id=reporter.organisation,
        reported_by_client=reporter.client_id,
        reported_by_person_id=reporter.person_id,
        addressed_to=bureau,
        summary=body.summary,
        details=body.details,
        concerned_organisations=list(body.concerns.organisations),
        concerned_requests=list(body.concerns.requests),
        status="open",
        created_at=now,
    )
    await repository.add(session, report)
    await session.flush()
    await audit.record(
        session,
        "problem.reported",
        actor=reporter,
        subject=report.id,
        now=now,
        addressed_to=bureau,
        organisations=report.concerned_organisations,
        requests=report.concerned_requests,
    )
    await _publish(session, report, ProblemEventName.reported, now=now, actor=reporter, links=links)
    return report


async def answer_problem(
    session: AsyncSession,
    *,
    problem_id: str,
    answerer: Actor,
    resolution: str,
    now: datetime,
    links: Links,
) -> ProblemReport:
    own = answerer.organisation
    report = found(
        await repository.lock_visible(session, problem_id, own), ProblemNotFound, problem_id
    )
    if own != report.addressed_to:
        raise NotTheAnsweringBureau(
            f"'{report.addressed_to}' (the provincial data bureau) answers this report, not "
            f"'{own}'",
            detail_zh="问题反映由省政务服务数据管理局答复，反映单位和涉及单位不能答复",
            addressed_to=report.addressed_to,
        )
    if report.status == "answered":
        assert report.answered_at is not None
        raise ProblemAlreadyAnswered(
            f"the report was answered at {report.answered_at.isoformat()}; it is answered once",
            detail_zh=f"该问题反映已于{china_time(report.answered_at)}答复，不能再次答复",
            problem_id=report.id,
        )
    report.status = "answered"
    report.resolution = resolution
    report.answered_by_client = answerer.client_id
    report.answered_by_person_id = answerer.person_id
    report.answered_at = now
    await session.flush()
    await audit.record(session, "problem.answered", actor=answerer, subject=report.id, now=now)
    await _publish(session, report, ProblemEventName.answered, now=now, actor=answerer, links=links)
    return report


async def visible_problem(session: AsyncSession, problem_id: str, org_id: str) -> ProblemReport:
    report = await repository.visible(session, problem_id, org_id)
    return found(report, ProblemNotFound, problem_id)


async def _check_concerns(
    session: AsyncSession, reporter: Actor, concerns: Concerns, now: datetime
) -> None:
    known = await repository.existing_organisations(session, concerns.organisations)
    _refuse_unknown(
        "concerns.organisations", concerns.organisations, known,
        "no such organisation in the directory", "目录中没有该单位",
    )  # fmt: skip
    acting = await acting_for(session, reporter, now)
    seen = await visible_request_ids(session, concerns.requests, acting.own, acting.org_ids)
    _refuse_unknown(
        "concerns.requests", concerns.requests, seen,
        "no such request visible to you", "没有贵单位可查看的该申请",
    )  # fmt: skip


def _refuse_unknown(
    field: str, ids: Sequence[str], known: set[str], reason: str, reason_zh: str
) -> None:
    for index, item in enumerate(ids):
        if item not in known:
            raise InvalidConcern(f"{field}[{index}]", f"{reason}: '{item}'", f"{reason_zh}“{item}”")


async def _publish(
    session: AsyncSession,
    report: ProblemReport,
    name: ProblemEventName,
    *,
    now: datetime,
    actor: Actor,
    links: Links,
) -> None:
    event = ProblemEvent(
        event=name,
        problem_id=report.id,
        concerns=ProblemConcerns(
            organisations=report.concerned_organisations, requests=report.concerned_requests
        ),
        reported_at=report.created_at,
        problems_url=links.problem(report.id),
        occurred_at=now,
        actor=actor.organisation,
        **attributes(report, _COPIED),
    )
    await record_event(
        session,
        topic=topics.REQUESTS,
        key=report.id,
        type=ce_type("problem", name.value),
        subject=report.id,
        data=event.model_dump(mode="json"),
    )
