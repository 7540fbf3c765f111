"""`cdo-broker webhooks replay`: an organisation's failed deliveries queued again."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from broker.cli.runner import Commands, command, command_group, in_transaction, timestamp
from broker.settings import BrokerSettings


def _webhooks_replay(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.audit.actor import SYSTEM
    from broker.webhooks import service
    from core.clock import utcnow

    now = utcnow()
    # Either way, as an operator at the command line, for one organisation.
    common: dict[str, Any] = {
        "actor": SYSTEM,
        "organisation_id": args.org,
        "force": args.force,
        "now": now,
    }

    async def work(session: AsyncSession) -> int:
        if args.id is not None:
            _, requeued = await service.replay_delivery(session, delivery_id=args.id, **common)
            return int(requeued)
        return await service.replay_between(
            session, start=args.start, end=args.end, status=args.status, **common
        )

    if (args.id is None) == (args.end is None):
        print("cdo-broker: name a delivery (--id) or a period (--from and --to)", file=sys.stderr)
        return 2
    print(json.dumps({"requeued": in_transaction(settings, work)}))
    return 0


def add(commands: Commands) -> None:
    webhooks_commands = command_group(commands, "webhooks", "webhook deliveries")
    replay = command(
        webhooks_commands,
        "replay",
        _webhooks_replay,
        help="queue an organisation's failed deliveries again; prints how many",
        description="Dead and undeliverable deliveries (by --id, or created in [--from, --to)) "
        "go back to pending, due now, with the retry schedule from its start.",
    )
    replay.add_argument("--org", required=True, help="organisation id the deliveries are for")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", help="one delivery (its webhook-id)")
    which.add_argument("--from", dest="start", type=timestamp, help="ISO 8601 (default UTC)")
    replay.add_argument("--to", dest="end", type=timestamp, help="ISO 8601, exclusive")
    replay.add_argument(
        "--status",
        choices=["dead", "undeliverable", "delivered"],
        help="only this status (default: dead and undeliverable)",
    )
    replay.add_argument("--force", action="store_true", help="also resend delivered ones")
