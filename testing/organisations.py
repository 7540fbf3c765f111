"""Bodies and datasets for tests of per-organisation things (a webhook endpoint, a channel,
appointments, delegations): the database is shared by the session, so each test makes bodies of
its own and leaves the seeded ones alone."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.directory.receipts import give_receipt
from core.models.catalog import Dataset
from core.models.directory import Appointment, Organisation
from testing.clients import TokenFactory, bearer

Sessions = async_sessionmaker[AsyncSession]


def first_seeded(data: dict[str, object], **wanted: object) -> str:
    """The first organisation of the seed `data` with every attribute `wanted`."""
    organisations = data["organisations"]
    assert isinstance(organisations, list)
    for org in organisations:
        if all(org.get(key) == value for key, value in wanted.items()):
            return str(org["id"])
    raise LookupError(f"no seeded organisation with {wanted}")


async def new_organisation(sessionmaker: Sessions) -> str:
    """A body of its own per test: an organisation has one endpoint, the database is shared."""
    org_id = f"wh-{uuid.uuid4().hex[:12]}"
    async with sessionmaker() as session:
        session.add(
            Organisation(
                id=org_id,
                name="测试局",
                name_en="Test bureau",
                kind="department",
                level="city",
                division_code="440100",
            )
        )
        await session.commit()
    return org_id


async def manager(token_for: TokenFactory, org_id: str) -> dict[str, str]:
    """Headers of `org_id`'s system allowed to manage its webhooks and channels."""
    return bearer(await token_for(org_id, "webhooks:manage"))


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
            appointment = Appointment(
                id=f"apt_{secrets.token_hex(8)}",
                organisation_id=org_id,
                person_name="安测试",
                title="副局长",
                appointed_by="测试党组",
                filed_with_id="gd-dsb",
                starts_at=datetime.now(UTC) - timedelta(days=365),
            )
            bureau = await session.get(Organisation, "gd-dsb")
            assert bureau is not None
            await give_receipt(session, appointment, bureau, filed_at=appointment.starts_at)
            session.add(appointment)
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
    """A delegation's `starts_at` and `ends_at`: `days` long, starting `start_in` days from now."""
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


async def delegated_by_bureau(
    client: httpx.AsyncClient, token_for: TokenFactory, org_id: str, delegate_org_id: str
) -> dict[str, Any]:
    """The Guangzhou bureau delegates `org_id`'s CDO to `delegate_org_id` for two weeks."""
    delegated = await client.post(
        "/v1/delegations",
        headers=bearer(await token_for("gz-dsb", "directory:admin")),
        json=delegation_body(org_id, delegate_org_id),
    )
    assert delegated.status_code == 201, delegated.text
    answer: dict[str, Any] = delegated.json()
    return answer


async def remove_cdo(
    client: httpx.AsyncClient, bureau_headers: dict[str, str], org_id: str
) -> None:
    """The bureau ends `org_id`'s one CDO appointment (免职) through the API."""
    [appointment] = (
        await client.get(f"/v1/organisations/{org_id}/appointments", headers=bureau_headers)
    ).json()
    ended = await client.post(
        f"/v1/appointments/{appointment['id']}/end", headers=bureau_headers, json={"reason": "免职"}
    )
    assert ended.status_code == 200, ended.text
