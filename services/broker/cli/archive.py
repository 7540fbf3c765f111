"""`cdo-broker archive`: published outbox rows and delivered webhooks older than
ARCHIVE_AFTER_DAYS moved to their archive tables (broker/outbox/archive.py). Run it daily."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.cli.runner import Commands, command, with_sessions
from broker.settings import BrokerSettings


def _archive(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.outbox.archive import archive_all
    from core.clock import utcnow

    days = args.after_days if args.after_days is not None else settings.archive_after_days
    before = utcnow() - timedelta(days=days)

    async def run(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
        moved = await archive_all(sessions, before=before)
        return {"events": moved.events, "deliveries": moved.deliveries}

    print(json.dumps({"archived": with_sessions(settings, run), "before": before.isoformat()}))
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
