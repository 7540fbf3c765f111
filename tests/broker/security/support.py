"""What the security tests share: parties holding demo clients, fresh bodies to act on, and
the before/after views that show a refused call changed nothing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.audit.models import AuditEntry
from broker.catalog.models import Dataset
from broker.directory.models import Appointment, Organisation
from broker.oauth.clients import create_client
from broker.oauth.scopes import demo_scopes_for
from broker.seed.pilot import load_pilot

Sessions = async_sessionmaker[AsyncSession]
_SEED = {o["id"]: o for o in load_pilot()["organisations"]}


@dataclass
class Party:
    """One body's system: its client and an HTTP client carrying its access token."""

    org: str
    client_id: str
    secret: str
    scope: str
    http: httpx.AsyncClient


async def demo_party(url: str, sessionmaker: Sessions, org: str, scope: str | None) -> Party:
    kind, has_cdo = _kind_of(org)
    scope = scope or demo_scopes_for(kind, has_cdo)
    async with sessionmaker() as session:
        client, secret = await create_client(session, organisation_id=org, scope=scope)
        await session.commit()
    http = httpx.AsyncClient(base_url=url, timeout=30)
    answer = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(client.id, secret),
    )
    assert answer.status_code == 200, answer.text
    http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return Party(org, client.id, secret, scope, http)


def _kind_of(org: str) -> tuple[str, bool]:
    if org in _SEED:
        return str(_SEED[org]["kind"]), bool(_SEED[org].get("cdo"))
    return "department", True  # a body a test added


async def audit_mark(sessionmaker: Sessions) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.coalesce(func.max(AuditEntry.id), 0))) or 0)


async def audited_since(sessionmaker: Sessions, mark: int, *, actor: str) -> list[AuditEntry]:
    """Audit rows written after `mark` that name `actor` as the acting organisation."""
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.id > mark, AuditEntry.actor == actor)
            .order_by(AuditEntry.id)
        )
        return list(rows)


async def fresh_body(
    sessionmaker: Sessions,
    *,
    kind: str = "department",
    government_id: str | None = "gz-gov",
    parent_id: str | None = None,
    level: str = "city",
    cdo: bool = True,
    prefix: str = "sec",
) -> str:
    """A new body (with a CDO in office since last year unless `cdo=False`), so a test that
    changes its appointments or data disturbs nobody else's."""
    org_id = f"{prefix}-{secrets.token_hex(5)}"
    async with sessionmaker() as session:
        session.add(
            Organisation(
                id=org_id,
                name="安全测试单位",
                name_en="Security test body",
                kind=kind,
                level=level,
                division_code="440100" if level == "city" else "440000",
                government_id=government_id if kind != "government" else None,
                parent_id=parent_id if kind == "government" else None,
                pilot=True,
            )
        )
        await session.flush()  # before its appointment: no relationship() orders the two
        if cdo:
            session.add(
                Appointment(
                    id=f"apt_{secrets.token_hex(8)}",
                    organisation_id=org_id,
                    person_name="安测试",
                    title="副局长",
                    appointed_by="测试党组",
                    filed_with_id="gd-dsb",
                    starts_at=datetime.now(UTC) - timedelta(days=365),
                )
            )
        await session.commit()
    return org_id


async def fresh_dataset(
    sessionmaker: Sessions, owner: str, sharing_class: str = "conditional"
) -> str:
    """A dataset of `owner` with one field, `code`."""
    dataset_id = f"sec-{secrets.token_hex(5)}"
    async with sessionmaker() as session:
        session.add(
            Dataset(
                id=dataset_id,
                name="测试数据",
                name_en="Test data",
                owner_id=owner,
                sharing_class=sharing_class,
                fields=[{"name": "code", "label": "编码"}],
            )
        )
        await session.commit()
    return dataset_id


def window(days: float = 14, *, start_in: float = 0) -> dict[str, str]:
    start = datetime.now(UTC) + timedelta(days=start_in)
    return {
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(days=days)).isoformat(),
    }


def delegation_body(
    organisation_id: str | None, delegate_org_id: str, **extra: Any
) -> dict[str, Any]:
    return {
        **({"organisation_id": organisation_id} if organisation_id else {}),
        "delegate_org_id": delegate_org_id,
        "delegate_name": "代理人",
        "delegate_title": "副局长",
        **window(),
        **extra,
    }
