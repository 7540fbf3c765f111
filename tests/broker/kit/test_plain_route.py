"""A plain route (kit/plain_route.py): its endpoint answers the request itself, documented as
any route; an endpoint that would need FastAPI's request handler is refused."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from broker.kit.plain_route import PlainRoute


async def _answer(request: Request) -> Response:
    return JSONResponse({"path": request.url.path, "body": (await request.body()).decode()})


async def test_a_plain_endpoint_answers_and_is_documented() -> None:
    router = APIRouter()
    router.add_api_route(
        "/plain", _answer, methods=["POST"], route_class_override=PlainRoute, summary="Plain"
    )
    app = FastAPI()
    app.include_router(router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        answer = await http.post("/plain", content=b"a=1")
    assert answer.status_code == 200
    assert answer.json() == {"path": "/plain", "body": "a=1"}
    assert app.openapi()["paths"]["/plain"]["post"]["summary"] == "Plain"


async def _two(request: Request, limit: int) -> Response:
    return Response()


async def _settings() -> str:
    return "x"


async def _with_dependency(request: Request, value: Annotated[str, Depends(_settings)]) -> Response:
    return Response()


def _sync(request: Request) -> Response:
    return Response()


@pytest.mark.parametrize("endpoint", [_two, _with_dependency, _sync])
def test_an_endpoint_that_needs_fastapi_s_handler_is_refused(endpoint: object) -> None:
    router = APIRouter()
    with pytest.raises(TypeError, match="plain route"):
        router.add_api_route("/x", endpoint, methods=["POST"], route_class_override=PlainRoute)  # type: ignore[arg-type]


def test_a_router_s_dependency_is_refused() -> None:
    router = APIRouter(dependencies=[Depends(_settings)])
    with pytest.raises(TypeError, match="plain route"):
        router.add_api_route("/x", _answer, methods=["POST"], route_class_override=PlainRoute)
