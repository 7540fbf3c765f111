"""Grant tokens (RFC 9396 authorization_details), introspection (RFC 7662) and revocation
(RFC 7009), against the real stack, verified with PyJWT and the published JWKS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.audit.verification import verify
from broker.oauth.client_cache import clients_changed
from broker.oauth.clients import revoke_client
from core.models.grants import Grant
from testing.apps import BASE_URL
from testing.audit import audit_mark, audited_since
from testing.clients import ALL_SCOPES, bearer, new_client
from testing.workloads import request_body

pytestmark = pytest.mark.integration
Sessions = async_sessionmaker[AsyncSession]
UNCONDITIONAL = "gd-rst-labour-dispatch-licences"


async def _token(
    http: httpx.AsyncClient, credentials: tuple[str, str], scope: str
) -> httpx.Response:
    return await http.post(
        "/oauth/token", data={"grant_type": "client_credentials", "scope": scope}, auth=credentials
    )


async def _claims(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    jwks = (await http.get("/.well-known/jwks.json")).json()
    key = pyjwt.PyJWKSet.from_dict(jwks)[pyjwt.get_unverified_header(token)["kid"]]
    claims: dict[str, Any] = pyjwt.decode(
        token, key=key.key, algorithms=["RS256"], audience=BASE_URL, issuer=BASE_URL
    )
    return claims


async def _granted(
    http: httpx.AsyncClient, credentials: tuple[str, str], **extra: Any
) -> dict[str, Any]:
    token = (await _token(http, credentials, "requests:submit")).json()["access_token"]
    filed = await http.post(
        "/v1/requests",
        headers=bearer(token),
        json=request_body(UNCONDITIONAL, ["licence_number", "company_name"], **extra),
    )
    assert filed.json()["status"] == "approved", filed.text
    return dict(filed.json())


async def _introspect(
    http: httpx.AsyncClient, token: str, resource_server: tuple[str, str]
) -> dict[str, Any]:
    response = await http.post("/oauth/introspect", data={"token": token}, auth=resource_server)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_grant_token_carries_its_grant_and_never_outlives_it(
    client: httpx.AsyncClient, sessionmaker: Sessions
) -> None:
    # 肇庆市公安局: no other test files for it, so the grant below is its only (and so the
    # chosen) grant of the dataset, whatever ran before
    holder = await new_client(sessionmaker, "zq-gaj", ALL_SCOPES)
    start = datetime.now(UTC).replace(microsecond=0)
    short = {
        "period": {"start": start.isoformat(), "end": (start + timedelta(seconds=120)).isoformat()}
    }
    request = await _granted(client, holder, **short)

    response = await _token(client, holder, f"dataset:{UNCONDITIONAL}:read")

    assert response.status_code == 200, response.text
    claims = await _claims(client, response.json()["access_token"])
    assert claims["scope"] == f"dataset:{UNCONDITIONAL}:read"
    assert claims["authorization_details"] == [
        {
            "type": "data_grant",
            "grant_id": request["grant_id"],
            "dataset_id": UNCONDITIONAL,
            "fields": ["licence_number", "company_name"],
            "purpose": request["purpose"],
        }
    ]
    assert claims["exp"] <= int((start + timedelta(seconds=120)).timestamp())
    metadata = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["authorization_details_types_supported"] == ["data_grant"]


async def test_of_grants_ending_together_a_token_carries_the_newest(
    client: httpx.AsyncClient, sessionmaker: Sessions
) -> None:
    # 茂名市公安局: no other test files for it
    holder = await new_client(sessionmaker, "mm-gaj", ALL_SCOPES)
    now = datetime.now(UTC)
    newer = await _granted(client, holder, now=now)
    older = await _granted(client, holder, now=now)  # the same period: they end together
    # The grant filed second is dated before the first (as a transaction that began earlier
    # and committed later would be), so the table's own order (filing order) puts the newer
    # grant first and the older last: ordered by end alone, the token would carry the older.
    async with sessionmaker() as session:
        created = (await session.get_one(Grant, newer["grant_id"])).created_at
        await session.execute(
            update(Grant)
            .where(Grant.id == older["grant_id"])
            .values(created_at=created - timedelta(seconds=1))
        )
        await session.commit()

    response = await _token(client, holder, f"dataset:{UNCONDITIONAL}:read")

    claims = await _claims(client, response.json()["access_token"])
    assert older["grant_id"] != newer["grant_id"]
    assert claims["authorization_details"][0]["grant_id"] == newer["grant_id"]


async def test_no_active_grant_or_mixed_scopes_are_invalid_scope(
    client: httpx.AsyncClient, sessionmaker: Sessions
) -> None:
    holder = await new_client(sessionmaker, "sz-gaj", ALL_SCOPES)
    without = await _token(client, holder, "dataset:gd-gat-population-basic:read")
    assert without.status_code == 400
    assert without.json()["error"] == "invalid_scope"
    await _granted(client, holder)
    mixed = await _token(client, holder, f"dataset:{UNCONDITIONAL}:read requests:read")
    assert mixed.json()["error"] == "invalid_scope"


async def test_introspection_sees_revocation_of_token_client_and_grant_at_once(
    client: httpx.AsyncClient, sessionmaker: Sessions, redis: Redis
) -> None:
    holder = await new_client(sessionmaker, "gz-rsj", ALL_SCOPES)
    provider = await new_client(sessionmaker, "gd-rst", "tokens:introspect")
    request = await _granted(client, holder)

    async def fresh() -> str:
        return str(
            (await _token(client, holder, f"dataset:{UNCONDITIONAL}:read")).json()["access_token"]
        )

    token = await fresh()
    active = await _introspect(client, token, provider)
    assert active["active"] is True
    assert active["authorization_details"][0]["grant_id"] == request["grant_id"]
    assert active["org_id"] == "gz-rsj"

    # The token itself, revoked by its client (someone else's revocation does nothing).
    await client.post("/oauth/revoke", data={"token": token}, auth=provider)
    assert (await _introspect(client, token, provider))["active"] is True
    revoked = await client.post("/oauth/revoke", data={"token": token}, auth=holder)
    assert revoked.status_code == 200
    assert await _introspect(client, token, provider) == {"active": False}

    # The grant, revoked by its provider (after an introspection: this process keeps its
    # standing, oauth/standing.py).
    token = await fresh()
    assert (await _introspect(client, token, provider))["active"] is True
    revoker = await new_client(sessionmaker, "gd-rst", "grants:revoke")
    revoker_token = (await _token(client, revoker, "grants:revoke")).json()["access_token"]
    revoked = await client.post(
        f"/v1/grants/{request['grant_id']}/revoke",
        headers=bearer(revoker_token),
        json={"reason": "核查发现超范围使用"},
    )
    assert revoked.status_code == 200, revoked.text
    assert await _introspect(client, token, provider) == {"active": False}

    # The client, revoked.
    api_token = (await _token(client, holder, "requests:read")).json()["access_token"]
    assert (await _introspect(client, api_token, provider))["active"] is True
    async with sessionmaker() as session:  # as `cdo-broker client revoke` does
        await revoke_client(session, holder[0], redis=redis, token_ttl_seconds=60)
        await session.commit()
    await clients_changed(redis)
    assert await _introspect(client, api_token, provider) == {"active": False}
    assert await _introspect(client, "not-a-token", provider) == {"active": False}


async def test_a_revoked_token_is_refused_by_the_api_at_once(
    client: httpx.AsyncClient, sessionmaker: Sessions
) -> None:
    holder = await new_client(sessionmaker, "zh-dsb", ALL_SCOPES)
    token = (await _token(client, holder, "requests:read")).json()["access_token"]
    assert (await client.get("/v1/requests", headers=bearer(token))).status_code == 200
    await client.post("/oauth/revoke", data={"token": token}, auth=holder)
    refused = await client.get("/v1/requests", headers={**bearer(token), "Accept-Language": "en"})
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]


async def test_introspection_is_for_authenticated_resource_servers(
    client: httpx.AsyncClient, sessionmaker: Sessions
) -> None:
    holder = await new_client(sessionmaker, "gz-rsj", ALL_SCOPES)
    token = (await _token(client, holder, "requests:read")).json()["access_token"]
    no_scope = await new_client(sessionmaker, "gd-rst", "requests:read")

    unauthenticated = await client.post("/oauth/introspect", data={"token": token})
    wrong_secret = await client.post(
        "/oauth/introspect", data={"token": token}, auth=(no_scope[0], "x")
    )
    without_scope = await client.post("/oauth/introspect", data={"token": token}, auth=no_scope)

    assert unauthenticated.status_code in (400, 401)
    assert unauthenticated.json()["error"] == "invalid_client"
    assert wrong_secret.status_code == 401
    assert without_scope.status_code == 403


async def _use_of(
    http: httpx.AsyncClient, holder: tuple[str, str], grant_id: str
) -> tuple[int, str | None]:
    """As the grant's answer shows it: the row's uses and those Redis holds (oauth/uses.py)."""
    reader = (await _token(http, holder, "grants:read")).json()["access_token"]
    shown = (await http.get(f"/v1/grants/{grant_id}", headers=bearer(reader))).json()
    return shown["use_count"], shown["last_used_at"]


async def test_a_refused_introspection_counts_no_use(
    client: httpx.AsyncClient, sessionmaker: Sessions
) -> None:
    holder = await new_client(sessionmaker, "gz-rsj", ALL_SCOPES)
    request = await _granted(client, holder)
    token = (await _token(client, holder, f"dataset:{UNCONDITIONAL}:read")).json()["access_token"]
    no_scope = await new_client(sessionmaker, "gd-rst", "requests:read")
    provider = await new_client(sessionmaker, "gd-rst", "tokens:introspect")
    form = {"token": token}
    assert await _use_of(client, holder, request["grant_id"]) == (0, None)
    # Once the token's standing is kept (oauth/standing.py), a refused call must not count it.
    assert (await _introspect(client, token, provider))["active"] is True
    used = await _use_of(client, holder, request["grant_id"])
    assert used[0] == 1

    unauthenticated = await client.post("/oauth/introspect", data=form)
    wrong_secret = await client.post("/oauth/introspect", data=form, auth=(provider[0], "x"))
    without_scope = await client.post("/oauth/introspect", data=form, auth=no_scope)

    assert unauthenticated.status_code in (400, 401)
    assert (wrong_secret.status_code, without_scope.status_code) == (401, 403)
    assert await _use_of(client, holder, request["grant_id"]) == used
    assert (await _introspect(client, token, provider))["active"] is True
    assert (await _use_of(client, holder, request["grant_id"]))[0] == 2


async def test_only_the_tokens_own_client_revokes_it_and_the_revocation_is_audited(
    client: httpx.AsyncClient, sessionmaker: Sessions
) -> None:
    holder = await new_client(sessionmaker, "gz-rsj", ALL_SCOPES)
    other = await new_client(sessionmaker, "sz-gaj", ALL_SCOPES)
    provider = await new_client(sessionmaker, "gd-rst", "tokens:introspect")
    token = (await _token(client, holder, "requests:read")).json()["access_token"]
    jti = (await _claims(client, token))["jti"]
    mark = await audit_mark(sessionmaker)

    by_other = await client.post("/oauth/revoke", data={"token": token}, auth=other)

    assert by_other.status_code == 200  # RFC 7009: nothing said about others' tokens
    assert (await _introspect(client, token, provider))["active"] is True
    assert [r for r in await audited_since(sessionmaker, mark, actor="sz-gaj")
            if r.client_id == other[0]] == []  # fmt: skip

    by_holder = await client.post("/oauth/revoke", data={"token": token}, auth=holder)

    assert by_holder.status_code == 200
    assert await _introspect(client, token, provider) == {"active": False}
    rows = [
        (r.action, r.client_id, r.person_id, r.subject)
        for r in await audited_since(sessionmaker, mark, actor="gz-rsj")
        if r.client_id == holder[0]
    ]
    assert rows == [("token.revoked", holder[0], None, jti)]


async def test_a_grant_token_is_audited_once_issued_or_refused(
    client: httpx.AsyncClient, sessionmaker: Sessions
) -> None:
    # The client kept by then (its first token read it): the grant is read in the statement
    # that appends the issued token's audit row, or, with none in force, nothing is appended
    # there and the refusal's row is written after.
    holder = await new_client(sessionmaker, "sz-gaj", ALL_SCOPES)
    await _granted(client, holder)
    mark = await audit_mark(sessionmaker)
    granted, refused = f"dataset:{UNCONDITIONAL}:read", "dataset:gd-gat-population-basic:read"

    assert (await _token(client, holder, granted)).status_code == 200
    assert (await _token(client, holder, refused)).status_code == 400

    rows = [
        (r.action, r.actor, r.subject, r.detail)
        for r in await audited_since(sessionmaker, mark, actor="sz-gaj")
        if r.client_id == holder[0]
    ]
    assert rows == [
        ("token.issued", "sz-gaj", holder[0], {"scope": granted, "error": None}),
        ("token.refused", "sz-gaj", holder[0], {"scope": refused, "error": "invalid_scope"}),
    ]
    async with sessionmaker() as session:
        assert (await verify(session)).ok
