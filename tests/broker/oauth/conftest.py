"""Fixtures of the OpenID Connect tests: a registered relying party and a person's browser."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from testing.apps import BASE_URL
from testing.clients import Sessions
from testing.oidc import AsyncOAuth2Client, relying_party_of


@pytest.fixture
async def relying_party(app: FastAPI, sessionmaker: Sessions) -> AsyncIterator[AsyncOAuth2Client]:
    async with relying_party_of(app, sessionmaker) as oauth:
        yield oauth


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as b:
        yield b
