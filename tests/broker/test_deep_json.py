"""A JSON body nested thousands deep is a 400 or 422 problem at every endpoint that takes one,
never a 500: neither the NUL check nor the app's own parsing may exhaust Python's stack."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from broker.oauth.scopes import Scope
from testing.clients import TokenFactory, bearer

pytestmark = pytest.mark.integration

DEEP = 5000
BODIES = {
    "arrays": b"[" * DEEP + b"]" * DEEP,
    "objects": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "with a NUL": b'{"purpose":"\\u0000","x":' + b"[" * DEEP + b"]" * DEEP + b"}",
    # Parses (json.loads goes this deep) and holds a NUL at the bottom: found without recursion.
    "a NUL 900 deep": b'{"x":' + b"[" * 900 + b'"\\u0000"' + b"]" * 900 + b"}",
}


def json_writes(app: FastAPI) -> list[tuple[str, str]]:
    """Every documented operation that takes a JSON body, its path parameters filled in."""
    return sorted(
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    )


async def test_a_deeply_nested_body_is_a_4xx_problem_everywhere(
    app: FastAPI, client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    every_scope = " ".join(scope.value for scope in Scope)
    headers = bearer(await token_for("gd-dsb", every_scope)) | {"Content-Type": "application/json"}
    routes = json_writes(app)
    assert len(routes) > 10
    for method, path in routes:
        for name, body in BODIES.items():
            response = await client.request(method, path, headers=headers, content=body)
            assert response.status_code in (400, 422), (method, path, name, response.text)
            assert response.headers["content-type"] == "application/problem+json"
