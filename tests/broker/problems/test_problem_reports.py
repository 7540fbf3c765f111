"""Problem reports (问题反映): any body files one with the provincial data bureau naming the bodies
and requests concerned; what it names must exist and be its business; the bureau's queue shows
it; the bureau answers once; everything is audited and published through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models.audit import AuditEntry
from core.models.outbox import OutboxEvent
from core.models.problems import ProblemReport
from testing.clients import ALL_SCOPES, TokenFactory, bearer, file
from testing.events import validator_for
from testing.kafka import Tail, payload
from testing.organisations import fresh_body
from testing.workloads import request_body

pytestmark = pytest.mark.integration
Sessions = async_sessionmaker[AsyncSession]
BUREAU = "gd-dsb"
DATASET = ("gz-rsj-talent-green-card", ["card_number", "name"])  # conditional: gz-rsj decides


async def _as(token_for: TokenFactory, org: str) -> dict[str, str]:
    return bearer(await token_for(org, ALL_SCOPES))


async def _report(
    client: httpx.AsyncClient, headers: dict[str, str], **concerns: list[str]
) -> httpx.Response:
    return await client.post(
        "/v1/reports/problems",
        headers=headers,
        json={
            "summary": "人社局逾期未答复共享申请",
            "details": "申请已提交十个工作日，审批单位未答复，也未说明理由。",
            "concerns": concerns,
        },
    )


async def test_a_report_reaches_the_provincial_bureau_and_is_answered_once(
    client: httpx.AsyncClient, sessionmaker: Sessions, token_for: TokenFactory, tail: Tail
) -> None:
    reporter = await fresh_body(sessionmaker, prefix="prb")
    headers = await _as(token_for, reporter)
    filed = await file(client, headers, request_body(*DATASET))
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]

    reported = await _report(client, headers, organisations=["gz-rsj"], requests=[request_id])
    assert reported.status_code == 201, reported.text
    report = reported.json()
    assert report["status"] == "open"
    assert report["addressed_to"] == BUREAU
    assert report["concerns"] == {"organisations": ["gz-rsj"], "requests": [request_id]}
    assert reported.headers["location"] == f"/v1/reports/problems/{report['id']}"

    bureau = await _as(token_for, BUREAU)
    queue = await client.get(
        "/v1/reports/problems", headers=bureau, params={"role": "answerer", "status": "open"}
    )
    assert report["id"] in {p["id"] for p in queue.json()["items"]}
    mine = await client.get("/v1/reports/problems", headers=headers)
    assert [p["id"] for p in mine.json()["items"]] == [report["id"]]
    stranger = await _as(token_for, "sz-gaj")
    assert (
        await client.get(f"/v1/reports/problems/{report['id']}", headers=stranger)
    ).status_code == 404
    listed = await client.get("/v1/reports/problems", headers=stranger)
    assert report["id"] not in {p["id"] for p in listed.json()["items"]}
    # the body named is told of the report, so it may read it, but it does not answer it
    named = await _as(token_for, "gz-rsj")
    seen_by_named = await client.get(f"/v1/reports/problems/{report['id']}", headers=named)
    assert seen_by_named.status_code == 200
    told = await client.get("/v1/reports/problems", headers=named, params={"role": "named"})
    assert report["id"] in {p["id"] for p in told.json()["items"]}
    by_named = await client.post(
        f"/v1/reports/problems/{report['id']}/answer", headers=named, json={"resolution": "已办"}
    )
    assert by_named.status_code == 403
    assert by_named.json()["title"] == "问题反映由省政务服务数据管理局答复"

    not_bureau = await client.post(
        f"/v1/reports/problems/{report['id']}/answer",
        headers=headers,
        json={"resolution": "自行解决"},
    )
    assert not_bureau.status_code == 403
    assert not_bureau.json()["type"].endswith("/not-the-answering-bureau")
    hidden = await client.post(
        f"/v1/reports/problems/{report['id']}/answer",
        headers=stranger,
        json={"resolution": "x" * 4},
    )
    assert hidden.status_code == 404
    # nothing refused changed anything
    kept = (await client.get(f"/v1/reports/problems/{report['id']}", headers=headers)).json()
    assert (kept["status"], kept["resolution"], kept["answered_at"]) == ("open", None, None)

    resolution = "已督促广州市人社局在三个工作日内答复，并纳入履职评价。"
    answered = await client.post(
        f"/v1/reports/problems/{report['id']}/answer",
        headers=bureau,
        json={"resolution": resolution},
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered"
    assert answered.json()["resolution"] == resolution
    again = await client.post(
        f"/v1/reports/problems/{report['id']}/answer",
        headers=bureau,
        json={"resolution": "再次答复"},
    )
    assert again.status_code == 409
    assert again.json()["type"].endswith("/problem-already-answered")
    seen = await client.get(f"/v1/reports/problems/{report['id']}", headers=headers)
    assert seen.json()["resolution"] == resolution
    # the request's timeline shows the report that names it, and its answer
    timeline = await client.get(f"/v1/requests/{request_id}/timeline", headers=headers)
    types = [e["type"] for e in timeline.json()["events"]]
    assert types[-2:] == ["problem.reported", "problem.answered"]

    async with sessionmaker() as session:
        audited = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.subject == report["id"]).order_by(AuditEntry.id)
            )
        ).all()
        events = (
            await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.subject == report["id"])
                .order_by(OutboxEvent.id)
            )
        ).all()
    assert [(a.action, a.actor) for a in audited] == [
        ("problem.reported", reporter),
        ("problem.answered", BUREAU),
    ]
    assert all(a.client_id for a in audited)
    assert [e.type for e in events] == [
        "cn.gov.gd.cdo.problem.reported",
        "cn.gov.gd.cdo.problem.answered",
    ]
    for event in events:
        validator_for(event.type).validate(event.data)
    assert events[1].data["resolution"] == resolution

    records = await tail.read([report["id"]])
    assert [payload(r)["event"] for r in records] == ["reported", "answered"]


@pytest.mark.parametrize(
    ("concerns", "field"),
    [
        ({"organisations": ["no-such-body"]}, "concerns.organisations[0]"),
        ({"organisations": ["gz-rsj", "gz-rsj"]}, "concerns.organisations"),
        ({"requests": ["req_unknown"]}, "concerns.requests[0]"),
    ],
)
async def test_what_a_report_names_must_exist(
    client: httpx.AsyncClient,
    sessionmaker: Sessions,
    token_for: TokenFactory,
    concerns: dict[str, list[str]],
    field: str,
) -> None:
    reporter = await fresh_body(sessionmaker, prefix="prb")
    refused = await _report(client, await _as(token_for, reporter), **concerns)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == field
    assert await _count(sessionmaker, reporter) == 0


async def test_a_request_of_others_cannot_be_named(
    client: httpx.AsyncClient, sessionmaker: Sessions, token_for: TokenFactory
) -> None:
    """Naming a request the reporter may not see answers as for an unknown one: no oracle."""
    owner = await fresh_body(sessionmaker, prefix="prb")
    filed = await file(client, await _as(token_for, owner), request_body(*DATASET))
    other = await fresh_body(sessionmaker, prefix="prb")
    refused = await _report(client, await _as(token_for, other), requests=[filed.json()["id"]])
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "concerns.requests[0]"
    assert await _count(sessionmaker, other) == 0


async def _count(sessionmaker: Sessions, reporter: str) -> int:
    async with sessionmaker() as session:
        return int(
            await session.scalar(select(func.count()).where(ProblemReport.reporter_id == reporter))
            or 0
        )


def _row(report: dict[str, Any], org: str) -> dict[str, Any]:
    return next(r for r in report["rows"] if r["organisation_id"] == org)


async def test_the_evaluation_counts_reports_per_body_and_the_time_to_answer(
    client: httpx.AsyncClient, sessionmaker: Sessions, token_for: TokenFactory
) -> None:
    reporter = await fresh_body(sessionmaker, prefix="prb")
    named = await fresh_body(sessionmaker, prefix="prb")
    start = datetime.now(UTC) - timedelta(minutes=1)
    reported = await _report(client, await _as(token_for, reporter), organisations=[named])
    answered = await client.post(
        f"/v1/reports/problems/{reported.json()['id']}/answer",
        headers=await _as(token_for, BUREAU),
        json={"resolution": "已协调解决"},
    )
    assert answered.status_code == 200, answered.text
    window = {
        "from": start.isoformat(),
        "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
    }

    for group_by in ("body", "cdo"):
        report = (
            await client.get(
                "/v1/reports/cdo-evaluation",
                headers=bearer(await token_for(BUREAU, "reports:read")),
                params=window | {"group_by": group_by},
            )
        ).json()
        assert _row(report, reporter)["problems_filed"] == 1
        assert _row(report, named)["problems_naming"] == 1
        assert _row(report, named)["problems_filed"] == 0
        bureau = _row(report, BUREAU)
        assert bureau["problems_answered"] >= 1
        assert bureau["problem_answer_seconds_median"] is not None
