"""Fixtures of the broker's tests: a fresh organisation and its system's webhooks:manage token."""

from __future__ import annotations

import pytest

from testing.clients import TokenFactory
from testing.organisations import Sessions, manager, new_organisation


@pytest.fixture
async def org(sessionmaker: Sessions) -> str:
    return await new_organisation(sessionmaker)


@pytest.fixture
async def headers(token_for: TokenFactory, org: str) -> dict[str, str]:
    return await manager(token_for, org)
