"""The notifier's own HTTP face, for the platform: `/healthz` (liveness: its loops still turn),
`/readyz` (PostgreSQL and Kafka answer) and `/metrics` (Prometheus text). No API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from broker.health.checks import database_ok, kafka_ok, probe
from broker.kit.metrics import instruments

# A loop that has not turned for this long is stuck (each turns at least every few seconds, and
# a Kafka reconnect backs off at most 10 s): the kubelet should restart the process.
STALL_S = 60.0


def health_app(
    engine: AsyncEngine,
    bootstrap_servers: str,
    *,
    heartbeats: dict[str, Callable[[], float]],
    timeout_s: float,
) -> Starlette:
    """`heartbeats`: loop name -> when it last turned (event-loop time)."""

    async def healthz(_: Request) -> Response:
        now = asyncio.get_running_loop().time()
        ages = {name: now - turned_at() for name, turned_at in heartbeats.items()}
        stalled = {name: round(age, 1) for name, age in ages.items() if age > STALL_S}
        if stalled:
            return JSONResponse({"status": "stalled", "seconds_since_turn": stalled}, 503)
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        results = await asyncio.gather(
            probe(database_ok(engine), timeout_s),
            probe(kafka_ok(bootstrap_servers, timeout_s), timeout_s),
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
