"""SLA escalation with two real broker processes: each lapse escalates exactly once, up the
chain department CDO -> government CDO -> data bureau, recorded against who let it lapse."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models.outbox import OutboxEvent
from core.models.requests import Escalation
from testing.clients import ALL_SCOPES, bearer_from
from testing.processes import free_port, serving_broker
from testing.settings import Settings
from testing.waiting import wait_until
from testing.workloads import request_body

pytestmark = pytest.mark.integration

SLA_SECONDS = 4
SHORT_SLA = {
    "version": 1,
    "escalation": ["department", "government", "data_bureau"],
    "reminder_before_seconds": 3,
    "rules": [
        {
            "name": "conditional-short-sla",
            "when": {"sharing_class": "conditional"},
            "steps": [{"approvers": ["provider_department"], "sla_seconds": SLA_SECONDS}],
        },
        {"name": "everything-else", "when": {}, "outcome": "approve"},
    ],
}


@pytest.fixture
async def two_brokers(
    settings: Settings, seeded: object, tmp_path: Path
) -> AsyncIterator[list[str]]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(SHORT_SLA), encoding="utf-8")
    urls: list[str] = []
    async with AsyncExitStack() as processes:
        for _ in range(2):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            env = os.environ | {
                "DATABASE_URL": settings.database_url,
                "ROUTING_POLICY_FILE": str(policy),
                "SLA_CHECK_INTERVAL": "0.2",
                "OUTBOX_RELAY": "false",
                "OAUTH_ISSUER": url,
                "BROKER_DEV_KEY_DIR": str(tmp_path / "keys"),
            }
            await processes.enter_async_context(serving_broker(env, port))
            urls.append(url)
        yield urls


async def test_each_lapse_escalates_exactly_once_with_two_brokers(
    two_brokers: list[str], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with httpx.AsyncClient(base_url=two_brokers[0]) as http:
        filed = await http.post(
            "/v1/requests",
            headers=await bearer_from(http, sessionmaker, "gz-rsj", ALL_SCOPES),
            json=request_body("gz-gaj-household-migration", ["id_number"]),
        )
        assert filed.status_code == 201, filed.text
        request_id = filed.json()["id"]

    async def escalations() -> list[Escalation]:
        async with sessionmaker() as session:
            rows = await session.scalars(
                select(Escalation)
                .where(Escalation.request_id == request_id)
                .order_by(Escalation.created_at)
            )
            return list(rows)

    async def climbed_to_the_province() -> bool:
        return any(e.to_org_id == "gd-dsb" for e in await escalations())

    await wait_until(climbed_to_the_province, limit_s=6 * SLA_SECONDS + 10, what="escalations")

    ladder = [(e.lapsed_org_id, e.to_org_id) for e in await escalations()]
    assert ladder[:3] == [("gz-gaj", "gz-gov"), ("gz-gov", "gz-dsb"), ("gz-dsb", "gd-dsb")]
    lapsed = [org for org, _ in ladder]
    assert len(lapsed) == len(set(lapsed)), f"a lapse escalated twice: {ladder}"
    first = (await escalations())[0]
    assert first.lapsed_appointment_id is not None  # recorded against gz-gaj's CDO
    async with sessionmaker() as session:
        reminded = list(
            await session.scalars(
                select(OutboxEvent.key)
                .where(
                    OutboxEvent.subject == request_id,
                    OutboxEvent.type == "cn.gov.gd.cdo.approval.reminder",
                )
                .order_by(OutboxEvent.id)
            )
        )
    # Each approver is reminded once before its deadline (SLA 4 s, reminder 3 s before).
    assert reminded[:3] == ["gz-gaj", "gz-gov", "gz-dsb"]
    assert len(reminded) == len(set(reminded))
