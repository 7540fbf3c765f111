"""Liveness (`/healthz`) and readiness (`/readyz`: database, Redis and Kafka answer)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from broker.kit.deps import EngineDep, RedisDep, SettingsDep
from broker.kit.problem_docs import problem_doc
from broker.kit.problem_handlers import RETRY_AFTER_SECONDS
from broker.kit.problems import problem_response
from core.health import database_ok, kafka_ok, probe, redis_ok
from core.kafka import client_options
from core.metrics import instruments

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/metrics",
    summary="Metrics in the Prometheus text format",
    response_model=None,
    response_class=PlainTextResponse,  # documents text/plain
)
async def metrics() -> Response:
    instruments()  # the series exist from the first scrape, at zero
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/readyz",
    summary="Database, Redis and Kafka are reachable",
    response_model=None,
    responses={503: problem_doc(503, "Not ready: `checks` says what is unreachable")},
)
async def readyz(
    settings: SettingsDep, engine: EngineDep, redis: RedisDep
) -> dict[str, Any] | JSONResponse:
    timeout = settings.dependency_timeout_seconds
    names = ["database"]
    checks = [database_ok(engine)]
    if redis is not None:
        names.append("redis")
        checks.append(redis_ok(redis))
    if settings.kafka_bootstrap_servers:
        names.append("kafka")
        checks.append(kafka_ok(client_options(settings), timeout))
    results = await asyncio.gather(*(probe(check, timeout) for check in checks))
    report = dict(zip(names, results, strict=True))
    if all(result == "ok" for result in results):
        return {"status": "ready", "checks": report}
    down = ", ".join(name for name, result in report.items() if result != "ok")
    return problem_response(
        503,
        "dependency-unavailable",
        "Not ready",
        f"unreachable: {down}",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
        checks=report,
    )
