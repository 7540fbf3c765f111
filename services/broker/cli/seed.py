"""`cdo-broker seed-pilot`: the pilot directory and catalog, and demo clients and people."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from broker.cli.runner import Commands, command, in_transaction, timestamp
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


def _seed_province(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.seed.province import Size
    from broker.seed.province_load import seed_province

    size = Size(args.cities, args.counties_per_city, args.towns_per_county, args.departments)

    async def work(session: AsyncSession) -> dict[str, Any]:
        report = await seed_province(session, seed=args.seed, as_of=args.as_of, size=size)
        return report.as_dict()

    print(json.dumps(in_transaction(settings, work), ensure_ascii=False))
    return 0


def _seed_history(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.seed.history.load import seed_history

    async def work(session: AsyncSession) -> dict[str, int]:
        return await seed_history(
            session, requests=args.requests, years=args.years, seed=args.seed, until=args.until
        )

    print(json.dumps(in_transaction(settings, work)))
    return 0


def add(commands: Commands) -> None:
    seed = command(commands, "seed-pilot", _seed_pilot, help="load the pilot directory and catalog")
    seed.add_argument("--clients", metavar="PATH", help="also write demo OAuth clients here")
    seed.add_argument("--people", metavar="PATH", help="also write demo people here")

    province = command(
        commands,
        "seed-province",
        _seed_province,
        help="the pilot, then the rest of Guangdong: ~10,000 bodies, CDO histories, a catalog",
        description="Deterministic from --seed; the sizes take a corner of the province (tests).",
    )
    province.add_argument("--seed", type=int, default=2021)
    province.add_argument("--as-of", type=date.fromisoformat, default=date.today(), metavar="DAY")
    province.add_argument("--cities", type=int, help="only the first N cities (default: all 21)")
    province.add_argument("--counties-per-city", type=int, metavar="N")
    province.add_argument("--towns-per-county", type=int, metavar="N", help="default: 8-18 each")
    province.add_argument("--departments", type=int, metavar="N", help="at most N per government")
    history = command(
        commands,
        "seed-history",
        _seed_history,
        help="years of requests on the seeded directory, bulk-written with the rows filing, "
        "deciding and delivering write (benchmarks)",
    )
    history.add_argument("--requests", type=int, default=1_000_000)
    history.add_argument("--years", type=float, default=3.0)
    history.add_argument("--seed", type=int, default=2021)
    history.add_argument("--until", type=timestamp, default=None, metavar="TIME")
