"""Fixtures of the console's tests: people signed in to the app through the sign-in form."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from testing.apps import BASE_URL, broker_with
from testing.clients import Sessions
from testing.people import Console, new_person, own_address, sign_in
from testing.settings import Settings


@pytest.fixture
async def console(
    app: FastAPI, settings: Settings, sessionmaker: Sessions
) -> AsyncIterator[Callable[..., Awaitable[Console]]]:
    """`await console(org_id, role, appointed=False, **settings changed)`: a new person of
    `org_id`, signed in; closed after the test."""
    async with AsyncExitStack() as stack:

        async def open_console(
            org_id: str, role: str, *, appointed: bool = False, **overrides: Any
        ) -> Console:
            person = await new_person(sessionmaker, settings, org_id, role, appointed=appointed)
            address = own_address()  # each person's browser: one address's sign-ins are limited
            http = await stack.enter_async_context(
                broker_with(app, settings, client_address=address, **overrides)
                if overrides
                else httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app, client=(address, 50123)),
                    base_url=BASE_URL,
                )
            )
            signed = await sign_in(http, person)
            assert signed.status_code == 303, signed.text
            return Console(http, person)

        yield open_console
