"""A clean start for each run on the fault run's own stack: an empty, migrated and seeded
database with one demo client per body, an empty Redis, keys every process shares, and a routing
policy whose SLAs are short enough for escalations to happen during the run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from redis.asyncio import Redis

import broker.routing
from testing.database import drop_schema
from testing.processes import cli


async def _command(env: dict[str, str], *args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *cli(*args), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"cdo-broker {' '.join(args)}: {err.decode()[-2000:]}{out.decode()}")


async def fresh_database(env: dict[str, str], clients_file: Path) -> None:
    """Drops what earlier runs left, as the stack's `cdo` role, which owns the database and its
    schema (MIGRATION_DATABASE_URL); migrates and seeds with the run's environment, so the
    brokers' role gets its grants and the seed's audit rows the run's audit key."""
    await drop_schema(env.get("MIGRATION_DATABASE_URL") or env["DATABASE_URL"], "public")
    await _command(env, "migrate")
    await asyncio.to_thread(clients_file.unlink, missing_ok=True)
    await _command(env, "seed-pilot", "--clients", str(clients_file))


async def empty_redis(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


def keys(directory: Path) -> tuple[Path, str]:
    """An RS256 signing key file and a Fernet key: the same for every broker and notifier, so
    a token from one broker is good at the other and both read the webhook secrets."""
    directory.mkdir(parents=True, exist_ok=True)
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = directory / "signing-key.pem"
    path.write_bytes(pem)
    path.chmod(0o600)
    return path, Fernet.generate_key().decode()


def short_sla_policy(
    directory: Path, sla_seconds: int, reminder_seconds: int, short: dict[str, int]
) -> Path:
    """The default policy with every step's SLA set to `sla_seconds`, except the rules named in
    `short`, whose steps get the SLA given there: long enough that steps lapse only when their
    CDO's webhooks keep failing, so escalations happen without flooding the run."""
    source = Path(broker.routing.__file__).with_name("default_policy.yaml")
    policy: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))
    policy["reminder_before_seconds"] = reminder_seconds
    for rule in policy["rules"]:
        for step in rule.get("steps", []):
            step.pop("sla_working_days", None)  # elapsed seconds instead: lapses within the run
            step["sla_seconds"] = short.get(rule["name"], sla_seconds)
    unknown = set(short) - {rule["name"] for rule in policy["rules"]}
    if unknown:
        raise ValueError(f"no rule {sorted(unknown)} in the default policy")
    path = directory / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
