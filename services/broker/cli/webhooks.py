"""`cdo-broker webhooks replay`: an organisation's failed deliveries queued again."""

from __future__ import annotations

import argparse
import json
import sys

from sqlalchemy.ext.asyncio import AsyncSession

from broker.cli.runner import Commands, broker_command, in_transaction, timestamp
from broker.settings import BrokerSettings


def _webhooks_replay(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.audit.actor import SYSTEM
    from broker.webhooks import service
    from core.clock import utcnow

    now = utcnow()

    async def work(session: AsyncSession) -> int:
        if args.id is not None:
            _, requeued = await service.replay_delivery(
                session, actor=SYSTEM, organisation_id=args.org, delivery_id=args.id,
                force=args.force, now=now,
            )  # fmt: skip
            return int(requeued)
        return await service.replay_between(
            session,
            actor=SYSTEM,  # an operator at the command line
            organisation_id=args.org,
            start=args.start,
            end=args.end,
            status=args.status,
            force=args.force,
            now=now,
        )

    if (args.id is None) == (args.end is None):
        print("cdo-broker: name a delivery (--id) or a period (--from and --to)", file=sys.stderr)
        return 2
    print(json.dumps({"requeued": in_transaction(settings, work)}))
    return 0


def add(commands: Commands) -> None:
    webhooks = commands.add_parser("webhooks", help="webhook deliveries")
    webhooks_commands = webhooks.add_subparsers(dest="webhooks_command", required=True)
    replay = webhooks_commands.add_parser(
        "replay",
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
    replay.set_defaults(handler=broker_command(_webhooks_replay))
