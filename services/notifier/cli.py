"""The notifier's commands of `cdo-broker` (cdo_cli), each reading NotifierSettings from the
environment: `notifier` consumes the broker's topics and delivers signed webhooks until SIGTERM;
`dlq list|replay` shows and sends back what the consumer could not read."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider

from core import logs
from core.db import create_engine, create_sessionmaker
from core.heap import freeze_long_lived, thaw
from core.kafka import client_options
from core.metrics import use_service_name
from core.telemetry import configure_tracing, instrument_httpx
from core.webhooks.secrets import cipher_from_settings
from notifier.consumer import NotificationConsumer
from notifier.delivery import webhook_client
from notifier.dlq import ReplayRefused, letters, replay
from notifier.http import health_app, serve_health
from notifier.settings import NotifierSettings
from notifier.worker import DeliveryWorker


async def serve(
    settings: NotifierSettings,
    stop: asyncio.Event,
    *,
    ready: asyncio.Event | None = None,
    tracer_provider: TracerProvider | None = None,
    http: tuple[str, int] | None = None,
) -> None:
    """Consume and deliver until `stop`; tracing as the `OTEL_*` variables say, or into
    `tracer_provider` (tests); `/healthz`, `/readyz` and `/metrics` on `http` (host, port)."""
    kafka = client_options(settings)
    tracer_provider = tracer_provider or configure_tracing("cdo-notifier")
    engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(engine)
    async with webhook_client() as client:
        if tracer_provider is not None:
            instrument_httpx(client, tracer_provider)
        worker = DeliveryWorker(sessions, settings, cipher_from_settings(settings), client=client)
        consumer = NotificationConsumer(
            sessions,
            kafka,
            settings.notifier_group_id,
            on_recorded=worker.wake,
            hand_over=worker.hand_over,
            start_at=settings.notifier_start_at,
            tracer_provider=tracer_provider,
        )
        if ready is not None:
            asyncio.get_running_loop().create_task(_signal_when(consumer.assigned, ready))
        loops = [consumer.run(stop), worker.run(stop)]
        if http is not None:
            app = health_app(
                engine,
                kafka,
                loops=[consumer.supervisor.health, worker.supervisor.health],
                timeout_s=settings.dependency_timeout_seconds,
            )
            loops.append(serve_health(app, *http, stop))
        try:
            freeze_long_lived()  # before the loops start: only what stays is alive (core/heap.py)
            await asyncio.gather(*loops)
        finally:
            thaw()
            await engine.dispose()


async def _signal_when(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()


def run(settings: NotifierSettings) -> int:
    if not settings.kafka_bootstrap_servers:
        print("cdo-broker notifier: set KAFKA_BOOTSTRAP_SERVERS", file=sys.stderr)
        return 2
    if not settings.database_url.startswith("postgresql"):
        # Its claims and batch writes are PostgreSQL statements (SKIP LOCKED, arrays).
        print("cdo-broker notifier: DATABASE_URL must be PostgreSQL", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    use_service_name("cdo-notifier")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(settings, stop, http=(settings.notifier_http_host, settings.notifier_http_port))

    asyncio.run(main())
    return 0


def dlq(args: argparse.Namespace, settings: NotifierSettings) -> int:
    if not settings.kafka_bootstrap_servers:
        print("cdo-broker dlq: set KAFKA_BOOTSTRAP_SERVERS", file=sys.stderr)
        return 2
    kafka = client_options(settings)  # replays write to the event topics: the broker's principal
    if args.dlq_command == "list":
        for letter in asyncio.run(letters(kafka, limit=args.limit, topic=args.topic)):
            print(json.dumps(letter, ensure_ascii=False))
        return 0
    value = Path(args.value_file).read_bytes() if args.value_file else None
    try:
        sent = asyncio.run(
            replay(
                kafka, partition=args.partition, offset=args.offset, value=value,
                force=args.force,
            )
        )  # fmt: skip
    except ReplayRefused as refused:
        print(f"cdo-broker dlq: {refused}", file=sys.stderr)
        return 1
    print(json.dumps(sent))
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The notifier's commands, for cdo_cli's parser."""
    commands.add_parser("notifier", help="run the webhook notifier").set_defaults(
        handler=lambda args: run(NotifierSettings())
    )
    dlq_parser = commands.add_parser(
        "dlq", help="messages a consumer could not read (datashare.dlq)"
    )
    dlq_commands = dlq_parser.add_subparsers(dest="dlq_command", required=True)
    listing = dlq_commands.add_parser("list", help="print them as JSON lines, oldest first")
    listing.add_argument("--limit", type=int, default=100, help="the newest N (default 100)")
    listing.add_argument("--topic", help="only those that came from this topic")
    again = dlq_commands.add_parser("replay", help="send one back to the topic it came from")
    again.add_argument("--partition", type=int, required=True, help="its datashare.dlq partition")
    again.add_argument("--offset", type=int, required=True, help="its datashare.dlq offset")
    again.add_argument("--value-file", help="send this file as its value (the fixed message)")
    again.add_argument("--force", action="store_true", help="send even if it would not read")
    for command in (listing, again):
        command.set_defaults(handler=lambda args: dlq(args, NotifierSettings()))
