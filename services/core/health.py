"""Readiness probes of each dependency, each bounded by a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any

from aiokafka import AIOKafkaClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import ping


async def database_ok(engine: AsyncEngine) -> None:
    await ping(engine)


async def redis_ok(redis: Redis) -> None:
    await redis.ping()


async def kafka_ok(kafka: Mapping[str, Any], request_timeout_s: float) -> None:
    """`kafka`: core.kafka.client_options, so the probe connects (TLS, SASL) as the process does."""
    client = AIOKafkaClient(
        **kafka,
        request_timeout_ms=int(request_timeout_s * 1000),
        connections_max_idle_ms=int(request_timeout_s * 1000) + 1000,
    )
    try:
        await client.bootstrap()
    finally:
        await client.close()


async def probe(check: Awaitable[None], limit_s: float) -> str:
    try:
        async with asyncio.timeout(limit_s):
            await check
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}"
    return "ok"
