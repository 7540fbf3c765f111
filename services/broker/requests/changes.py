"""A caller's change to a request ends the same way wherever it is made: the request is touched,
the change flushed, and an audit row names who made it (organisation, client, person)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import Actor
from core.models.requests import DataRequest


async def audit_change(
    session: AsyncSession,
    request: DataRequest,
    action: str,
    *,
    actor: Actor,
    now: datetime,
    **detail: Any,
) -> None:
    """After the change is made in memory: written, then audited as `action` with `detail`."""
    request.updated_at = now
    await session.flush()
    await audit.record(session, action, actor=actor, subject=request.id, now=now, **detail)
