"""kit/deps.py: what the lifespan puts is what an endpoint's typed dependency receives, and no
other module of the services reads or writes `app.state`."""

from __future__ import annotations

import re
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI

from broker.kit.deps import AppResource
from testing import REPO_ROOT

SERVICES = REPO_ROOT / "services"

ANSWER = AppResource[dict[str, int]]("answer")
AnswerDep = Annotated[dict[str, int], Depends(ANSWER.provide)]


async def test_an_endpoint_receives_what_the_lifespan_put() -> None:
    app = FastAPI()
    ANSWER.put(app, {"value": 42})

    @app.get("/answer")
    async def read(given: AnswerDep) -> dict[str, int]:
        return given

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.get("/answer")
    assert response.json() == {"value": 42}
    # the provider's `request: Request` is recognised, not taken for a query parameter
    assert "parameters" not in app.openapi()["paths"]["/answer"]["get"]


def test_only_the_dependency_kit_touches_app_state() -> None:
    touching = sorted(
        str(path.relative_to(SERVICES))
        for path in SERVICES.rglob("*.py")
        if re.search(r"\bapp\.state\b", path.read_text(encoding="utf-8"))
    )
    assert touching == ["broker/kit/deps.py"]
