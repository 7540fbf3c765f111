"""The commands that run the broker's processes: serve (the API), relay (only the outbox relay),
migrate (the schema, and the broker role's privileges)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from broker.audit.keys import audit_keys_from_settings
from broker.cli.runner import Commands, command
from broker.settings import BrokerSettings
from core.db import create_engine


def _serve(args: argparse.Namespace, settings: BrokerSettings) -> int:
    import uvicorn

    from broker.app import create_app
    from core import logs

    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_config=logs.config(settings.log_level),
    )
    return 0


def _relay(args: argparse.Namespace, settings: BrokerSettings) -> int:
    import signal

    from broker.outbox.relay import OutboxRelay
    from core import logs

    if not settings.kafka_bootstrap_servers:
        print("cdo-broker: the relay needs KAFKA_BOOTSTRAP_SERVERS", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)

    async def run() -> None:
        engine = create_engine(settings.database_url)
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):  # finish the batch in flight, then exit
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        try:
            await OutboxRelay.from_settings(engine, settings).run(stop)
        finally:
            await engine.dispose()

    asyncio.run(run())
    return 0


def _migrate(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.migrate import app_role_of, upgrade

    url = settings.migration_database_url or settings.database_url
    role = app_role_of(settings.database_url, settings.migration_database_url)
    upgrade(url, app_role=role, audit_keys=lambda: audit_keys_from_settings(settings))
    granted = f"; the broker's role {role} may not change audit rows" if role else ""
    print(f"migrated {url.split('@')[-1]} to the newest schema{granted}", file=sys.stderr)
    return 0


def add(commands: Commands) -> None:
    serve = command(commands, "serve", _serve, help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    command(
        commands,
        "relay",
        _relay,
        help="publish the outbox to Kafka until SIGTERM (as `serve` does by default)",
    )
    command(commands, "migrate", _migrate, help="upgrade the database schema")
