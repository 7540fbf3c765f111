"""`cdo-broker client create|revoke` and `person create`: who may call the API, and who signs in."""

from __future__ import annotations

import argparse
import json

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.cli.runner import Commands, command, command_group, in_transaction, with_sessions
from broker.settings import BrokerSettings


def _client_create(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.oauth.clients import create_client

    async def work(session: AsyncSession) -> dict[str, str]:
        client, secret = await create_client(
            session,
            organisation_id=args.org,
            scope=args.scope,
            name=args.name,
            redirect_uris=args.redirect_uri,
        )
        return {"client_id": client.id, "client_secret": secret}

    print(json.dumps(in_transaction(settings, work)))
    return 0


def _client_revoke(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from redis.asyncio import Redis

    from broker.oauth.client_cache import clients_changed
    from broker.oauth.clients import revoke_client

    async def run(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        try:
            async with sessions() as session:
                client = await revoke_client(
                    session,
                    args.id,
                    redis=redis,
                    token_ttl_seconds=settings.access_token_ttl_seconds,
                )
                assert client.revoked_at is not None
                revoked = {"client_id": client.id, "revoked_at": client.revoked_at.isoformat()}
                await session.commit()
            # again once committed: a process that read the row in between drops it now
            await clients_changed(redis)
        finally:
            if redis is not None:
                await redis.aclose()
        return revoked

    print(json.dumps(with_sessions(settings, run)))
    return 0


def _person_create(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.people.service import create_person
    from core.webhooks.secrets import cipher_from_settings

    async def work(session: AsyncSession) -> dict[str, str | None]:
        new = await create_person(
            session,
            organisation_id=args.org,
            role=args.role,
            name=args.name,
            username=args.username,
            cipher=cipher_from_settings(settings),
        )
        return {
            "person_id": new.person.id,
            "username": new.person.username,
            "password": new.password,
            "totp_uri": new.totp_uri,
        }

    print(json.dumps(in_transaction(settings, work), ensure_ascii=False))
    return 0


def add(commands: Commands) -> None:
    client_commands = command_group(commands, "client", "OAuth clients")
    create = command(
        client_commands, "create", _client_create, help="create a client; prints its secret once"
    )
    create.add_argument("--org", required=True, help="organisation id the client acts for")
    create.add_argument("--scope", required=True, help='space-separated, e.g. "requests:submit"')
    create.add_argument("--name", default=None)
    create.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        help="where people's sign-in returns (repeatable): the client signs people in",
    )
    revoke = command(
        client_commands,
        "revoke",
        _client_revoke,
        help="disable a client: no new tokens, and the ones it holds stop working at once",
    )
    revoke.add_argument("--id", required=True, help="the client_id")

    person_commands = command_group(commands, "person", "people who sign in")
    new_person = command(
        person_commands,
        "create",
        _person_create,
        help="create a person; prints a one-time password (and TOTP URI) once",
    )
    new_person.add_argument("--org", required=True, help="the person's organisation id")
    new_person.add_argument("--role", required=True, help="cdo, staff, bureau_operator, auditor")
    new_person.add_argument("--name", required=True, help="the name people read, e.g. 张三")
    new_person.add_argument("--username", default=None, help="default: <org>-<role>")
