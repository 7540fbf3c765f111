"""`cdo-broker seed-pilot`: the pilot directory and catalog, and demo clients and people."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from broker.cli.runner import Commands, broker_command, in_transaction
from broker.settings import BrokerSettings


def _seed_pilot(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.seed.people import ensure_demo_people
    from broker.seed.pilot import (
        SeedReport,
        ensure_demo_clients,
        load_pilot,
        read_secrets_file,
        seed_pilot,
        write_secrets_file,
    )
    from core.clock import utcnow
    from core.webhooks.secrets import cipher_from_settings

    data = load_pilot()
    known = read_secrets_file(Path(args.clients)) if args.clients else {}
    known_people = read_secrets_file(Path(args.people)) if args.people else {}

    async def work(session: AsyncSession) -> tuple[SeedReport, Any, Any]:
        report = await seed_pilot(session, data)
        clients = people = None
        if args.clients:
            clients = await ensure_demo_clients(session, data, known, report)
        if args.people:
            people, report.people = await ensure_demo_people(
                session, data, known_people, cipher=cipher_from_settings(settings), now=utcnow()
            )
        return report, clients, people

    report, clients, people = in_transaction(settings, work)
    if clients is not None:
        write_secrets_file(Path(args.clients), clients)
    if people is not None:
        write_secrets_file(Path(args.people), people)
    print(json.dumps(report.as_dict(), ensure_ascii=False))
    return 0


def add(commands: Commands) -> None:
    seed = commands.add_parser("seed-pilot", help="load the pilot directory and catalog")
    seed.add_argument("--clients", metavar="PATH", help="also write demo OAuth clients here")
    seed.add_argument("--people", metavar="PATH", help="also write demo people here")
    seed.set_defaults(handler=broker_command(_seed_pilot))
