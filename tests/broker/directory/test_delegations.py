"""Delegations: who may make and end one, and the window it may have."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from broker.directory.delegations import CLOCK_SKEW, one_year_after, window_problem
from testing.audit import audit_mark, audited_since
from testing.clients import Sessions, TokenFactory, bearer
from testing.organisations import delegation_body, fresh_body, window

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "appointment_end", "problem"),
    [
        (NOW, NOW + timedelta(days=30), None, None),
        (NOW - CLOCK_SKEW, NOW + timedelta(days=1), None, None),  # the caller's clock is behind
        (NOW - CLOCK_SKEW - timedelta(seconds=1), NOW + timedelta(days=1), None, "starts_at"),
        (datetime(2000, 1, 1, tzinfo=UTC), NOW + timedelta(days=1), None, "starts_at"),
        (NOW, one_year_after(NOW), None, None),
        (NOW, one_year_after(NOW) + timedelta(seconds=1), None, "ends_at"),
        (NOW, datetime(2126, 1, 1, tzinfo=UTC), None, "ends_at"),
        (NOW + timedelta(days=300), NOW + timedelta(days=400), None, None),  # a year from its start
        (NOW, NOW + timedelta(days=30), NOW + timedelta(days=29), "ends_at"),  # outlasts the CDO
        (NOW, NOW, None, "ends_at"),
    ],
)
def test_the_window(
    start: datetime, end: datetime, appointment_end: datetime | None, problem: str | None
) -> None:
    found = window_problem(start, end, appointment_end, NOW)
    assert (found[0] if found else None) == problem


def test_a_year_after_29_february_is_28_february() -> None:
    leap = datetime(2028, 2, 29, 12, tzinfo=UTC)
    assert one_year_after(leap) == datetime(2029, 2, 28, 12, tzinfo=UTC)


@pytest.mark.integration
async def test_a_bureau_delegates_and_revokes_for_a_body_it_covers(
    client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    body = await fresh_body(sessionmaker)  # a Guangzhou department
    bureau = bearer(await token_for("gz-dsb", "directory:admin"))
    stranger = bearer(await token_for("sz-dsb", "directory:admin"))
    others = bearer(await token_for("gz-rsj", "approvals:decide"))
    own = bearer(await token_for(body, "approvals:decide"))
    mark = await audit_mark(sessionmaker)

    made = await client.post(
        "/v1/delegations", headers=bureau, json=delegation_body(body, "gz-rsj")
    )
    assert made.status_code == 201, made.text
    path = f"/v1/delegations/{made.json()['id']}/revoke"
    outside = await client.post(path, headers=stranger)
    not_yours = await client.post(path, headers=others)
    revoked = await client.post(path, headers=own, json={"reason": "提前返岗"})
    again = await client.post(path, headers=bureau)

    assert outside.status_code == 403, outside.text
    assert outside.json()["type"].endswith("/outside-jurisdiction")
    assert not_yours.status_code == 403, not_yours.text
    assert not_yours.json()["type"].endswith("/not-your-cdo")
    assert revoked.status_code == 200, revoked.text
    assert again.status_code == 200, again.text
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]  # idempotent
    rows = await audited_since(sessionmaker, mark, actor="gz-dsb")
    assert [r.action for r in rows] == ["cdo.delegated"]
    rows = await audited_since(sessionmaker, mark, actor=body)
    assert [(r.action, r.detail["reason"]) for r in rows] == [
        ("cdo.delegation_revoked", "提前返岗")
    ]
    unknown = await client.post("/v1/delegations/dlg_nothing/revoke", headers=own)
    assert unknown.status_code == 404


@pytest.mark.integration
async def test_a_delegation_that_ended_cannot_be_revoked(
    client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    from sqlalchemy import update

    from core.models.directory import Delegation

    body = await fresh_body(sessionmaker)
    own = bearer(await token_for(body, "approvals:decide"))
    made = await client.post("/v1/delegations", headers=own, json=delegation_body(None, body))
    assert made.status_code == 201, made.text
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(Delegation)
            .where(Delegation.id == made.json()["id"])
            .values(ends_at=datetime.now(UTC) - timedelta(minutes=1))
        )

    ended = await client.post(f"/v1/delegations/{made.json()['id']}/revoke", headers=own)

    assert ended.status_code == 409, ended.text
    assert ended.json()["type"].endswith("/delegation-ended")


@pytest.mark.integration
async def test_a_delegation_may_start_later(
    client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    body = await fresh_body(sessionmaker)
    own = bearer(await token_for(body, "approvals:decide"))
    later = await client.post(
        "/v1/delegations", headers=own, json=delegation_body(None, body) | window(start_in=7)
    )
    assert later.status_code == 201, later.text
