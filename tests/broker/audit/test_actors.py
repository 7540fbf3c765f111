"""Each audited write names its actor: organisation, OAuth client and (once people sign in)
person. The person is hashed when there is one; rows without it hash as they always did."""

from __future__ import annotations

import json
import secrets

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.audit import service as audit
from broker.audit.actor import Actor
from core.models.audit import AuditEntry
from testing.clients import ALL_SCOPES, TokenFactory, bearer, claims_of, decide, file
from testing.workloads import request_body

pytestmark = pytest.mark.integration
Sessions = async_sessionmaker[AsyncSession]


def client_of(token: str) -> str:
    return str(claims_of(token)["client_id"])


async def _row(sessionmaker: Sessions, action: str, subject: str) -> AuditEntry:
    """The newest row of `action` on `subject` (an organisation's webhook endpoint keeps its id:
    earlier tests' PUTs of it are rows on the same subject)."""
    async with sessionmaker() as session:
        found = await session.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.subject == subject)
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
    assert found is not None, (action, subject)
    return found


def registered_or_changed(put: httpx.Response) -> str:
    return "webhook.endpoint_registered" if put.status_code == 201 else "webhook.endpoint_changed"


async def test_writes_name_the_organisation_and_the_client(
    client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    requester_token = await token_for("gz-rsj", ALL_SCOPES + " webhooks:manage")
    provider_token = await token_for("gz-gaj", ALL_SCOPES + " grants:revoke")
    body = request_body("gz-gaj-household-migration", ["id_number"])
    request = (await file(client, bearer(requester_token), body)).json()
    decided = await decide(client, bearer(provider_token), request["id"], decision="approve")
    grant_id = decided.json()["grant_id"]
    revoked = await client.post(
        f"/v1/grants/{grant_id}/revoke", headers=bearer(provider_token), json={"reason": "测试"}
    )
    assert revoked.status_code == 200, revoked.text
    hooked = await client.put(
        "/v1/webhooks/endpoint",
        headers=bearer(requester_token),
        json={"url": "https://93.184.215.14/hooks/cdo"},
    )
    assert hooked.status_code in (200, 201), hooked.text

    provider_client, requester_client = client_of(provider_token), client_of(requester_token)
    for action, subject, org, client_id in [
        ("decision.recorded", request["id"], "gz-gaj", provider_client),
        ("grant.issued", grant_id, "gz-gaj", provider_client),  # the decision that approved
        ("grant.revoked", grant_id, "gz-gaj", provider_client),
        # A PUT registers the body's endpoint, or changes it when an earlier test registered it
        (registered_or_changed(hooked), hooked.json()["id"], "gz-rsj", requester_client),
    ]:
        row = await _row(sessionmaker, action, subject)
        assert (row.actor, row.client_id, row.person_id) == (org, client_id, None), action


async def test_a_person_is_hashed_and_a_row_without_one_hashes_as_before(
    sessionmaker: Sessions, owner_sessionmaker: Sessions
) -> None:
    subject = f"sub-{secrets.token_hex(4)}"
    async with sessionmaker() as session:
        plain = await audit.record(
            session, "test.actor", actor=Actor("gz-gaj", "cli_x"), subject=subject
        )
        signed = await audit.record(
            session, "test.actor", actor=Actor("gz-gaj", "cli_x", "psn_1"), subject=subject
        )
        key = audit.keys_of(session).current
        await session.commit()
    legacy = json.dumps(
        {
            "occurred_at": plain.occurred_at.isoformat(),
            "actor": "gz-gaj",
            "client_id": "cli_x",
            "action": "test.actor",
            "subject": subject,
            "detail": {},
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert plain.hash == key.mac(f"{plain.prev_hash}|{legacy}")
    async with owner_sessionmaker() as session:  # the broker's own role may not edit a row
        stored = await session.get(AuditEntry, signed.id)
        assert stored is not None
        assert stored.person_id == "psn_1"
        assert key.mac(audit.chained(stored.prev_hash, stored)) == stored.hash
        await session.execute(
            update(AuditEntry).where(AuditEntry.id == signed.id).values(person_id="psn_2")
        )
        edited = await session.get(AuditEntry, signed.id, populate_existing=True)
        assert edited is not None
        assert key.mac(audit.chained(edited.prev_hash, edited)) != edited.hash  # verify fails
        await session.rollback()
