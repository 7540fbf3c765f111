"""The notifier's own HTTP face, for the platform: `/healthz` (liveness: no loop is stuck),
`/readyz` (PostgreSQL and Kafka answer) and `/metrics` (Prometheus text). No API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.health import database_ok, kafka_ok, probe
from core.metrics import instruments
from core.supervisor import LoopHealth

# A loop in one turn for this long is stuck (a turn takes a batch: well under a second, 30 s at
# most waiting on Kafka's acks): the kubelet should restart the process. A loop backing off
# while PostgreSQL or Kafka is away is alive: a restart would not bring them back.
STALL_S = 60.0


def health_app(
    engine: AsyncEngine,
    kafka: Mapping[str, Any],
    *,
    loops: Sequence[LoopHealth],
    timeout_s: float,
) -> Starlette:
    """`loops`: the health of the supervised loops the process lives for."""

    async def healthz(_: Request) -> Response:
        now = time.monotonic()
        report = {loop.name: loop.report(now) for loop in loops}
        if any(loop.stalled(now, STALL_S) for loop in loops):
            return JSONResponse({"status": "stalled", "loops": report}, 503)
        return JSONResponse({"status": "ok", "loops": report})

    async def readyz(_: Request) -> Response:
        results = await asyncio.gather(
            probe(database_ok(engine), timeout_s),
            probe(kafka_ok(kafka, timeout_s), timeout_s),
        )
        report = {"database": results[0], "kafka": results[1]}
        if all(result == "ok" for result in results):
            return JSONResponse({"status": "ready", "checks": report})
        return JSONResponse({"status": "not ready", "checks": report}, 503)

    async def metrics(_: Request) -> Response:
        instruments()  # the series exist from the first scrape
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
        ]
    )


async def serve_health(app: Starlette, host: str, port: int, stop: asyncio.Event) -> None:
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, lifespan="off", log_config=None, access_log=False)
    )
    task = asyncio.create_task(server.serve())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait([task, stopping], return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopping.cancel()
    await task
