"""待办 (my tasks): the steps my body must decide and those a body delegated to me, nearest
deadline first, each with the time left and its overdue, on-hold, escalated and delegated marks."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from broker.audit.actor import Actor
from broker.console.tasks import task_of
from broker.requests.access import Acting
from broker.requests.schemas import RequestOut
from core.clock import utcnow
from core.models.requests import RequestStep
from testing.clients import ALL_SCOPES, Sessions, TokenFactory, bearer, file
from testing.organisations import delegated_by_bureau, fresh_body, fresh_dataset
from testing.people import Console
from testing.workloads import request_body

OpenConsole = Callable[..., Awaitable[Console]]
NOW = datetime(2026, 12, 7, 10, tzinfo=UTC)


def _request(**step_changes: object) -> RequestOut:
    approver = {"organisation_id": "provider", "acting_for": None, "escalated_from": None,
                "current": True, "cdo": "安测试"}  # fmt: skip
    step = {
        "index": 0, "role": "provider_cdo", "status": "pending", "required": 1,
        "sla_seconds": 86400, "started_at": NOW - timedelta(days=1), "due_at": NOW,
        "on_hold_since": None, "escalations": 0, "approvers": [approver], "decisions": [],
        **step_changes,
    }  # fmt: skip
    period = {"start": NOW, "end": NOW + timedelta(days=30)}
    return RequestOut.model_validate({
        "id": "req_1", "kind": "share", "status": "pending", "status_reason": None,
        "requester_id": "requester", "dataset_id": "d", "provider_id": "provider",
        "fields": ["x"], "purpose": "p", "legal_basis": None, "period": period,
        "jurisdiction": None, "granted_fields": ["x"], "granted_period": period,
        "routing_rule": "r", "current_step": 0, "route": [step], "grant_id": None,
        "trace_id": "t" * 32, "created_at": NOW, "updated_at": NOW, "decided_at": None,
    })  # fmt: skip


def _acting(org: str) -> Acting:
    return Acting(actor=Actor(org_id=org, client_id="console"), delegated={})


def test_a_task_is_marked_overdue_on_hold_or_escalated() -> None:
    provider = _acting("provider")
    due_now = task_of(_request(), provider, NOW)
    assert due_now is not None
    assert (due_now.overdue, due_now.on_hold, due_now.escalated) == (False, False, False)
    late = task_of(_request(), provider, NOW + timedelta(minutes=1))
    assert late is not None
    assert late.overdue
    held = task_of(_request(on_hold_since=NOW), provider, NOW + timedelta(days=2))
    assert held is not None
    assert (held.on_hold, held.overdue) == (True, False)  # the clock stops while on hold
    escalated = task_of(_request(escalations=1), provider, NOW)
    assert escalated is not None
    assert escalated.escalated
    assert task_of(_request(), _acting("requester"), NOW) is None  # never one's own request
    assert task_of(_request(), _acting("elsewhere"), NOW) is None


def _listed(page: httpx.Response, request_ids: list[str]) -> list[tuple[str, str]]:
    """(request id, its entry) for each of `request_ids` on the 待办 page, in its order."""
    entries = re.findall(
        r'<li class="task[^"]*" data-request="([^"]+)">(.*?)</li>', page.text, re.S
    )
    return [(found, entry) for found, entry in entries if found in request_ids]


@pytest.mark.integration
async def test_my_tasks_and_my_delegators_nearest_deadline_first_with_their_marks(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    provider = await fresh_body(sessionmaker)
    deputy = await fresh_body(sessionmaker)
    await delegated_by_bureau(client, token_for, provider, deputy)
    requester = bearer(await token_for("gz-gaj", ALL_SCOPES))
    ids = []
    for _ in range(3):
        dataset = await fresh_dataset(sessionmaker, provider)
        filed = await file(client, requester, request_body(dataset, ["code"]))
        assert filed.status_code == 201, filed.text
        ids.append(filed.json()["id"])
    later, held, late = ids
    own_cdo = await console(provider, "cdo", appointed=True)
    deputy_cdo = await console(deputy, "cdo", appointed=True)
    asked = await own_cdo.post(
        f"/console/requests/{held}/decision", {"action": "clarify", "comment": "请说明用途"}
    )
    assert asked.status_code == 303, asked.text
    now = utcnow()
    for request_id, due in ((later, now + timedelta(days=5)), (held, now + timedelta(days=1)),
                            (late, now - timedelta(hours=2, minutes=30))):  # fmt: skip
        async with sessionmaker() as session, session.begin():
            await session.execute(
                update(RequestStep).where(RequestStep.request_id == request_id).values(due_at=due)
            )

    mine = _listed(await own_cdo.http.get("/console/tasks"), ids)
    theirs = _listed(await deputy_cdo.http.get("/console/"), ids)

    assert [request_id for request_id, _ in mine] == [late, held, later]
    assert [request_id for request_id, _ in theirs] == [late, held, later]
    entries = dict(theirs)
    assert "已超期 2小时" in entries[late]
    assert "剩余 4天" in entries[later]
    assert "暂停计时" in entries[held]
    assert "暂停计时" not in entries[later]
    assert all("受安全测试单位委托" in entry for entry in entries.values())
    assert not any("委托" in entry for _, entry in mine)
    page = await deputy_cdo.http.get("/console/tasks")
    assert re.search(rf'<li class="task overdue" data-request="{late}">', page.text)
    english = await deputy_cdo.http.get("/console/tasks?lang=en")
    assert "overdue by 2 h" in dict(_listed(english, ids))[late]
