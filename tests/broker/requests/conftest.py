"""Fixtures of the request lifecycle's tests: a check that every event the package's tests wrote
validates against its JSON Schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from core.models.outbox import OutboxEvent
from testing.events import validator_for


@pytest.fixture(scope="package", autouse=True)
async def every_event_validates(sessionmaker: Any) -> AsyncIterator[None]:
    """After this package's tests: every event they wrote validates against its JSON Schema."""
    yield
    async with sessionmaker() as session:
        events = list(await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))
    ours = [e for e in events if e.type.startswith("cn.gov.gd.cdo.")]
    assert ours, "the lifecycle tests wrote no events"
    for event in ours:
        validator_for(event.type).validate(event.data)
