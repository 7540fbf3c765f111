"""Bodies and datasets for tests of per-organisation things (a webhook endpoint, a channel,
appointments, delegations): the database is shared by the session, so each test makes bodies of
its own and leaves the seeded ones alone."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

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
