"""The broker's commands of `cdo-broker` (cdo_cli): serve, relay, migrate, seed-pilot, client,
person, webhooks, audit, openapi, schemas. Each reads BrokerSettings from the environment."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit.keys import AuditKeyError, audit_keys_from_settings
from broker.kit.problems import Problem
from broker.settings import BrokerSettings
from core.db import create_engine, create_sessionmaker

T = TypeVar("T")


def _in_transaction(settings: BrokerSettings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            sessions = create_sessionmaker(engine, audit_keys=audit_keys_from_settings(settings))
            async with sessions() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


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

    report, clients, people = _in_transaction(settings, work)
    if clients is not None:
        write_secrets_file(Path(args.clients), clients)
    if people is not None:
        write_secrets_file(Path(args.people), people)
    print(json.dumps(report.as_dict(), ensure_ascii=False))
    return 0


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

    print(json.dumps(_in_transaction(settings, work)))
    return 0


def _client_revoke(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from redis.asyncio import Redis

    from broker.oauth.clients import revoke_client

    async def work(session: AsyncSession) -> dict[str, str]:
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        try:
            client = await revoke_client(
                session, args.id, redis=redis, token_ttl_seconds=settings.access_token_ttl_seconds
            )
        finally:
            if redis is not None:
                await redis.aclose()
        assert client.revoked_at is not None
        return {"client_id": client.id, "revoked_at": client.revoked_at.isoformat()}

    print(json.dumps(_in_transaction(settings, work)))
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

    print(json.dumps(_in_transaction(settings, work), ensure_ascii=False))
    return 0


def _webhooks_replay(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.webhooks import service
    from core.clock import utcnow

    now = utcnow()

    async def work(session: AsyncSession) -> int:
        if args.id is not None:
            _, requeued = await service.replay_delivery(
                session, organisation_id=args.org, delivery_id=args.id, force=args.force, now=now
            )
            return int(requeued)
        return await service.replay_between(
            session,
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
    print(json.dumps({"requeued": _in_transaction(settings, work)}))
    return 0


def _timestamp(value: str) -> datetime:
    """ISO 8601; without an offset, UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _openapi(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.openapi import render

    sys.stdout.write(render())
    return 0


def _schemas(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.openapi import render
    from core.events import EVENT_MODELS, schema_of

    out = Path(args.out)
    (out / "events").mkdir(parents=True, exist_ok=True)
    (out / "openapi.json").write_text(render(), encoding="utf-8")
    for name in EVENT_MODELS:
        (out / "events" / f"{name}.schema.json").write_text(schema_of(name), encoding="utf-8")
    print(f"wrote {out}/openapi.json and {len(EVENT_MODELS)} event schemas", file=sys.stderr)
    return 0


def _audit_verify(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.audit.verification import Verdict, verify

    anchors = []
    for path in args.anchor or ():
        try:
            anchors.append(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            print(f"cdo-broker: cannot read the anchor {path}: {exc}", file=sys.stderr)
            return 2

    async def work(session: AsyncSession) -> Verdict:
        return await verify(session, anchors)

    verdict: Verdict = _in_transaction(settings, work)
    if verdict.ok:
        print(f"audit log intact: {verdict.rows} rows, {len(anchors)} anchor(s) held")
        return 0
    print(
        f"audit log BROKEN at row {verdict.broken_at}: {verdict.reason} ({verdict.rows} rows read)",
        file=sys.stderr,
    )
    return 1


def _audit_anchor(args: argparse.Namespace, settings: BrokerSettings) -> int:
    from broker.audit.verification import anchor

    print(json.dumps(_in_transaction(settings, anchor), indent=2))
    return 0


Handler = Callable[[argparse.Namespace, BrokerSettings], int]


def _broker(handler: Handler) -> Callable[[argparse.Namespace], int]:
    """`handler` with the broker's settings; a refusal is a message and status 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args, BrokerSettings())
        except Problem as problem:
            print(f"cdo-broker: {problem.detail}", file=sys.stderr)
        except AuditKeyError as refused:
            print(f"cdo-broker: {refused}", file=sys.stderr)
        return 2

    return run


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The broker's commands, for cdo_cli's parser."""

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=_broker(_serve))

    commands.add_parser(
        "relay", help="publish the outbox to Kafka until SIGTERM (as `serve` does by default)"
    ).set_defaults(handler=_broker(_relay))
    commands.add_parser("migrate", help="upgrade the database schema").set_defaults(
        handler=_broker(_migrate)
    )

    commands.add_parser("openapi", help="print the OpenAPI document").set_defaults(
        handler=_broker(_openapi)
    )

    audit = commands.add_parser("audit", help="the hash-chained audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify",
        help="exit 1 if any row was edited or removed",
        description="Walks every chain of the audit log with the keys of AUDIT_KEY; with "
        "--anchor, also checks that each chain still holds the heads an earlier `audit anchor` "
        "printed, so that rows removed from the end of a chain show.",
    )
    verify.add_argument(
        "--anchor", metavar="FILE", action="append", help="an `audit anchor` output (repeatable)"
    )
    verify.set_defaults(handler=_broker(_audit_verify))
    audit_commands.add_parser(
        "anchor", help="print each chain's head, the row count and the time as JSON, to keep"
    ).set_defaults(handler=_broker(_audit_anchor))

    schemas = commands.add_parser("schemas", help="write the OpenAPI and event JSON Schemas")
    schemas.add_argument("--out", default="schemas", help="the schemas folder (default: schemas)")
    schemas.set_defaults(handler=_broker(_schemas))

    seed = commands.add_parser("seed-pilot", help="load the pilot directory and catalog")
    seed.add_argument("--clients", metavar="PATH", help="also write demo OAuth clients here")
    seed.add_argument("--people", metavar="PATH", help="also write demo people here")
    seed.set_defaults(handler=_broker(_seed_pilot))

    client = commands.add_parser("client", help="OAuth clients")
    client_commands = client.add_subparsers(dest="client_command", required=True)
    create = client_commands.add_parser("create", help="create a client; prints its secret once")
    create.add_argument("--org", required=True, help="organisation id the client acts for")
    create.add_argument("--scope", required=True, help='space-separated, e.g. "requests:submit"')
    create.add_argument("--name", default=None)
    create.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        help="where people's sign-in returns (repeatable): the client signs people in",
    )
    create.set_defaults(handler=_broker(_client_create))
    revoke = client_commands.add_parser(
        "revoke",
        help="disable a client: no new tokens, and the ones it holds stop working at once",
    )
    revoke.add_argument("--id", required=True, help="the client_id")
    revoke.set_defaults(handler=_broker(_client_revoke))

    person = commands.add_parser("person", help="people who sign in")
    person_commands = person.add_subparsers(dest="person_command", required=True)
    new_person = person_commands.add_parser(
        "create", help="create a person; prints a one-time password (and TOTP URI) once"
    )
    new_person.add_argument("--org", required=True, help="the person's organisation id")
    new_person.add_argument("--role", required=True, help="cdo, staff, bureau_operator, auditor")
    new_person.add_argument("--name", required=True, help="the name people read, e.g. 张三")
    new_person.add_argument("--username", default=None, help="default: <org>-<role>")
    new_person.set_defaults(handler=_broker(_person_create))

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
    which.add_argument("--from", dest="start", type=_timestamp, help="ISO 8601 (default UTC)")
    replay.add_argument("--to", dest="end", type=_timestamp, help="ISO 8601, exclusive")
    replay.add_argument(
        "--status",
        choices=["dead", "undeliverable", "delivered"],
        help="only this status (default: dead and undeliverable)",
    )
    replay.add_argument("--force", action="store_true", help="also resend delivered ones")
    replay.set_defaults(handler=_broker(_webhooks_replay))
