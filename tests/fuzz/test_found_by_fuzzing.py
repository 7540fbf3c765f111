"""Regressions: each 5xx the fuzzer found, now a 2xx or a 4xx that names the field."""

from __future__ import annotations

import base64

import httpx
import pytest

from broker.oauth.scopes import Scope
from testing.clients import TokenFactory, bearer

pytestmark = pytest.mark.integration

EVERY_SCOPE = " ".join(scope.value for scope in Scope)
DATASET = "gz-gaj-household-migration"


async def test_a_patch_with_null_fields_changes_nothing_rather_than_failing(
    client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    headers = bearer(await token_for("gd-dsb", EVERY_SCOPE))
    before = (await client.get(f"/v1/datasets/{DATASET}", headers=headers)).json()

    patched = await client.patch(
        f"/v1/datasets/{DATASET}", headers=headers, json={"fields": None, "sharing_class": None}
    )

    assert patched.status_code == 200, patched.text
    assert patched.json() == before


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field", "where"),
    [
        ("GET", "/v1/requests/req%00x", {}, "path", "path"),
        ("GET", "/v1/organisations/gz%00/appointments", {}, "path", "path"),
        ("GET", "/v1/requests", {"params": {"dataset_id": "a\x00b"}}, "dataset_id", "query"),
        ("POST", "/v1/requests", {"json": {"dataset_id": "a\x00"}}, "dataset_id", "body"),
        ("POST", "/v1/requests", {"json": {"fields": ["a", "\x00"]}}, "fields.1", "body"),
    ],
)
async def test_a_nul_character_is_422_naming_where_it_was(
    method: str,
    path: str,
    kwargs: dict[str, object],
    field: str,
    where: str,
    client: httpx.AsyncClient,
    token_for: TokenFactory,
) -> None:
    headers = bearer(await token_for("gz-rsj", EVERY_SCOPE))

    response = await client.request(method, path, headers=headers, **kwargs)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"field": field, "in": where, "message": "text may not contain the NUL character (U+0000)"}
    ]


async def test_a_nul_in_a_client_id_is_an_oauth_error(client: httpx.AsyncClient) -> None:
    in_form = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "a\x00", "client_secret": "x"},
    )
    basic = base64.b64encode(b"a\x00b:x").decode()
    in_basic = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )

    assert in_form.status_code == 400, in_form.text
    assert in_form.json()["error"] == "invalid_request"
    assert in_form.json()["error_description"].startswith("client_id: ")
    assert in_basic.status_code == 401, in_basic.text
    assert in_basic.json()["error"] == "invalid_client"
