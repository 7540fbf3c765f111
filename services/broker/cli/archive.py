"""`cdo-broker archive`: published outbox rows and delivered webhooks older than
ARCHIVE_AFTER_DAYS moved to their archive tables (broker/outbox/archive.py). Run it daily."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import timedelta

from broker.audit.keys import audit_keys_from_settings
from broker.cli.runner import Commands, command
from broker.settings import BrokerSettings
from core.db import create_engine, create_sessionmaker


def _archive(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.outbox.archive import archive_all
    from core.clock import utcnow

    days = args.after_days if args.after_days is not None else settings.archive_after_days
    before = utcnow() - timedelta(days=days)

    async def run() -> dict[str, int]:
        engine = create_engine(settings.database_url)
        try:
            sessions = create_sessionmaker(engine, audit_keys=audit_keys_from_settings(settings))
            moved = await archive_all(sessions, before=before)
        finally:
            await engine.dispose()
        return {"events": moved.events, "deliveries": moved.deliveries}

    print(json.dumps({"archived": asyncio.run(run()), "before": before.isoformat()}))
    return 0


def add(commands: Commands) -> None:
    archive = command(
        commands,
        "archive",
        _archive,
        help="move published outbox rows and delivered webhooks older than ARCHIVE_AFTER_DAYS "
        "to their archive tables (run daily)",
    )
    archive.add_argument("--after-days", type=float, metavar="DAYS", help="instead of the setting")
