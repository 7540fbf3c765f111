"""A filing made by calling the service as the endpoint does, on a session the test holds: for
tests that look at its statements, its transaction or its races."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit.actor import Actor
from broker.kit.tracing import current_trace
from broker.requests.filing.schemas import RequestIn
from broker.requests.filing.service import Filed, file_request
from core.clock import utcnow
from testing.apps import LINKS


async def file_directly(
    session: AsyncSession,
    app: FastAPI,
    requester: str,
    body: dict[str, Any],
    idempotency_key: str | None = None,
) -> Filed:
    """`body` filed by `requester` on `session` (not committed), with the app's routing policy."""
    return await file_request(
        session,
        requester=Actor(requester),
        body=RequestIn.model_validate(body),
        idempotency_key=idempotency_key,
        trace=current_trace(),
        policy=app.state.routing_policy,
        now=utcnow(),
        links=LINKS,
    )
