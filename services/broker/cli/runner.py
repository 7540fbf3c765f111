"""How a broker command runs: with the broker's settings, its work in one transaction, and a
refusal (a problem, a bad audit key or holidays file) as a message and status 2."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeAlias, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.audit.keys import AuditKeyError, audit_keys_from_settings
from broker.calendar.holidays_file import HolidaysFileError
from broker.kit.problems import Problem
from broker.settings import BrokerSettings
from core.db import create_engine, create_sessionmaker

T = TypeVar("T")
# The subcommands of cdo_cli's parser that each group adds its commands to.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler = Callable[[argparse.Namespace, BrokerSettings], int]


def command_group(commands: Commands, name: str, help: str) -> Commands:
    """`cdo-broker <name> <subcommand>`: the group's subcommands, one of which is required."""
    group = commands.add_parser(name, help=help)
    return group.add_subparsers(dest=f"{name}_command", required=True)


def command(
    commands: Commands, name: str, handler: Handler, help: str, description: str | None = None
) -> argparse.ArgumentParser:
    """`cdo-broker [group] <name>`, run by `handler` as broker_command says; the caller adds
    its arguments to the parser returned."""
    parser = commands.add_parser(name, help=help, description=description)
    parser.set_defaults(handler=broker_command(handler))
    return parser


def with_sessions(
    settings: BrokerSettings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]
) -> T:
    """`work` run with the broker's sessions (audit keys and all), the engine disposed after."""

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            return await work(
                create_sessionmaker(engine, audit_keys=audit_keys_from_settings(settings))
            )
        finally:
            await engine.dispose()

    return asyncio.run(run())


def in_transaction(settings: BrokerSettings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run(sessions: async_sessionmaker[AsyncSession]) -> T:
        async with sessions() as session:
            result = await work(session)
            await session.commit()
            return result

    return with_sessions(settings, run)


def broker_command(handler: Handler) -> Callable[[argparse.Namespace], int]:
    """`handler` with the broker's settings; a refusal is a message and status 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args, BrokerSettings())
        except Problem as problem:
            print(f"cdo-broker: {problem.detail}", file=sys.stderr)
        except (AuditKeyError, HolidaysFileError) as refused:
            print(f"cdo-broker: {refused}", file=sys.stderr)
        return 2

    return run


def timestamp(value: str) -> datetime:
    """ISO 8601; without an offset, UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
