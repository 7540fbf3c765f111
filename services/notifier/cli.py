"""`cdo-broker notifier`: consume the broker's topics and deliver signed webhooks until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from opentelemetry.sdk.trace import TracerProvider

from broker.kit.db import create_engine, create_sessionmaker
from broker.kit.telemetry import configure_tracing, instrument_httpx
from broker.settings import Settings
from broker.webhooks.secrets import cipher_from_settings
from notifier.consumer import NotificationConsumer
from notifier.delivery import webhook_client
from notifier.worker import DeliveryWorker


async def serve(
    settings: Settings,
    stop: asyncio.Event,
    *,
    ready: asyncio.Event | None = None,
    tracer_provider: TracerProvider | None = None,
) -> None:
    """Consume and deliver until `stop`; tracing as the `OTEL_*` variables say, or into
    `tracer_provider` (tests)."""
    assert settings.kafka_bootstrap_servers
    tracer_provider = tracer_provider or configure_tracing("cdo-notifier")
    engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(engine)
    async with webhook_client() as client:
        if tracer_provider is not None:
            instrument_httpx(client, tracer_provider)
        worker = DeliveryWorker(sessions, settings, cipher_from_settings(settings), client=client)
        consumer = NotificationConsumer(
            sessions,
            settings.kafka_bootstrap_servers,
            settings.notifier_group_id,
            on_recorded=worker.wake,
            start_at=settings.notifier_start_at,
            tracer_provider=tracer_provider,
        )
        if ready is not None:
            asyncio.get_running_loop().create_task(_signal_when(consumer.assigned, ready))
        try:
            await asyncio.gather(consumer.run(stop), worker.run(stop))
        finally:
            await engine.dispose()


async def _signal_when(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()


def run(settings: Settings) -> int:
    if not settings.kafka_bootstrap_servers:
        print("cdo-broker notifier: set KAFKA_BOOTSTRAP_SERVERS", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(settings, stop)

    asyncio.run(main())
    return 0
