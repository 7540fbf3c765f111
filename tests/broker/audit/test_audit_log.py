"""The audit log records security-relevant actions, hash-chained: `cdo-broker audit verify`
passes on an untouched log and fails after a row is altered or removed in PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models.audit import AuditEntry
from testing.clients import ALL_SCOPES, TokenFactory, bearer, decide, file
from testing.processes import cdo_broker
from testing.workloads import request_body

pytestmark = pytest.mark.integration
Sessions = async_sessionmaker[AsyncSession]


async def test_actions_are_recorded_and_verify_detects_edits_and_deletions(
    client: httpx.AsyncClient,
    token_for: TokenFactory,
    sessionmaker: Sessions,
    owner_sessionmaker: Sessions,
    migrated: str,
) -> None:
    requester = bearer(await token_for("gz-rsj", ALL_SCOPES))
    provider = bearer(await token_for("gz-gaj", ALL_SCOPES))
    body = request_body("gz-gaj-household-migration", ["id_number"])
    request = (await file(client, requester, body)).json()
    await decide(client, provider, request["id"], decision="approve")

    async with sessionmaker() as session:
        actions = set(await session.scalars(select(AuditEntry.action)))
        decision = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "decision.recorded", AuditEntry.subject == request["id"]
            )
        )
    assert {"client.created", "token.issued", "decision.recorded", "grant.issued"} <= actions
    assert decision is not None
    assert decision.actor == "gz-gaj"

    intact = cdo_broker("audit", "verify", database_url=migrated)
    assert intact.returncode == 0, intact.stderr
    assert "intact" in intact.stdout

    original = {c.name: getattr(decision, c.name) for c in AuditEntry.__table__.columns}
    async with owner_sessionmaker() as session:
        await session.execute(
            update(AuditEntry).where(AuditEntry.id == decision.id).values(actor="gz-rsj")
        )
        await session.commit()
    try:
        edited = cdo_broker("audit", "verify", database_url=migrated)
        assert edited.returncode == 1
        assert f"row {decision.id}" in edited.stderr
    finally:
        async with owner_sessionmaker() as session:
            await session.execute(
                update(AuditEntry).where(AuditEntry.id == decision.id).values(actor="gz-gaj")
            )
            await session.commit()

    async with owner_sessionmaker() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.id == decision.id))
        await session.commit()
    try:
        removed = cdo_broker("audit", "verify", database_url=migrated)
        assert removed.returncode == 1
        assert "removed or changed" in removed.stderr
    finally:
        async with owner_sessionmaker() as session:
            await session.execute(insert(AuditEntry).values(**original))
            await session.commit()
    assert cdo_broker("audit", "verify", database_url=migrated).returncode == 0
