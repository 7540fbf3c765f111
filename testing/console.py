"""What the console's tests share: a request that a fresh body alone decides, and the words a
refused form shows."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from testing.clients import ALL_SCOPES, Sessions, TokenFactory, bearer, file
from testing.organisations import fresh_body, fresh_dataset
from testing.workloads import request_body

ERROR = re.compile(r'id="error">([^<]*)<')


async def pending_at_fresh_provider(
    client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> tuple[str, dict[str, Any]]:
    """A fresh Guangzhou department with a CDO, and gz-gaj's request that only it decides."""
    provider = await fresh_body(sessionmaker)
    dataset = await fresh_dataset(sessionmaker, provider)
    filed = await file(
        client, bearer(await token_for("gz-gaj", ALL_SCOPES)), request_body(dataset, ["code"])
    )
    assert filed.status_code == 201, filed.text
    request: dict[str, Any] = filed.json()
    return provider, request


def error_on(page: httpx.Response) -> str:
    """What a refused form's page says (its `#error`), as a person reads it."""
    found = ERROR.search(page.text)
    assert found, "the page says nothing"
    return html.unescape(found.group(1))
