"""Kafka's side of `deploy/local/stack`, once its nodes listen: through aiokafka's admin client,
so that nothing reads the Java tools' text.

    kafka_admin.py --bootstrap HOST:PORT[,...] [--security-dir DIR] ready --node ID [--node ID]
        [--pid PID ...] [--replication-factor N] [--min-insync-replicas N] [--in-sync]
        [--limit SECONDS]

`ready` waits until the cluster answers with every node given registered (a fenced node is left
out of the metadata), creates the CONTRACT's topics that are missing (core.topics: the
one list, with partition counts), and with `--in-sync` waits until every node given is in the
ISR of each partition it holds a replica of: a node back from a restart is back only then, as
before it the cluster could not lose another. It gives up (exit 1) after `--limit` seconds, or
at once when a `--pid` (a Kafka JVM) has exited. `--security-dir` is the stack's
KAFKA_SECURITY=sasl_ssl directory: its CA and the `admin` user's SCRAM password.

The compose stack runs it too (deploy/docker-compose.yml, in the broker's image).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError
from aiokafka.helpers import create_ssl_context

from core.topics import PARTITIONS

TOPIC_ALREADY_EXISTS = 36  # Kafka's error code: another creation won the race, which is fine
Check = Callable[[AIOKafkaAdminClient], Awaitable[bool]]


class GaveUp(Exception):
    pass


def say(message: str) -> None:
    print(f"stack: {message}", file=sys.stderr, flush=True)


def connection(bootstrap: str, security_dir: Path | None) -> dict[str, Any]:
    """The admin client's options: plaintext, or SASL_SSL as the stack's `admin` super user."""
    options: dict[str, Any] = {"bootstrap_servers": bootstrap, "request_timeout_ms": 5000}
    if security_dir is None:
        return options
    passwords = dict(
        line.split(maxsplit=1) for line in (security_dir / "passwords").read_text().splitlines()
    )
    return options | {
        "security_protocol": "SASL_SSL",
        "ssl_context": create_ssl_context(cafile=str(security_dir / "ca.pem")),
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "admin",
        "sasl_plain_password": passwords["admin"],
    }


def registered(nodes: Sequence[int]) -> Check:
    async def check(admin: AIOKafkaAdminClient) -> bool:
        brokers = (await admin.describe_cluster())["brokers"]
        return set(nodes) <= {broker["node_id"] for broker in brokers}

    return check


def topics_made(replication_factor: int, min_insync_replicas: int | None) -> Check:
    configs = (
        {} if min_insync_replicas is None else {"min.insync.replicas": str(min_insync_replicas)}
    )

    async def check(admin: AIOKafkaAdminClient) -> bool:
        existing = set(await admin.list_topics())
        missing = {name: count for name, count in PARTITIONS.items() if name not in existing}
        if not missing:
            return True
        for name, count in missing.items():
            say(f"creating topic {name} ({count} partitions)")
        answer = await admin.create_topics(
            [NewTopic(name, count, replication_factor, topic_configs=configs)
             for name, count in missing.items()]
        )  # fmt: skip
        failed = {
            error["topic"]: error["error_message"]
            for error in answer.to_object()["topic_errors"]
            if error["error_code"] not in (0, TOPIC_ALREADY_EXISTS)
        }
        for name, why in failed.items():
            say(f"creating topic {name} failed ({why}); trying again")
        return not failed

    return check


def in_sync(nodes: Sequence[int]) -> Check:
    async def check(admin: AIOKafkaAdminClient) -> bool:
        for topic in await admin.describe_topics():
            if topic["error_code"] != 0:
                return False
            for partition in topic["partitions"]:
                lagging = set(partition["replicas"]) - set(partition["isr"])
                if lagging & set(nodes):
                    return False
        return True

    return check


def exited(pids: Sequence[int]) -> int | None:
    """The first of `pids` that no longer runs (a zombie's command line is empty)."""
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes():
                continue
        except OSError:
            pass
        return pid
    return None


async def until(
    what: str, check: Check, options: dict[str, Any], deadline: float, pids: Sequence[int]
) -> None:
    """Asks `check` every fraction of a second until it holds. A Kafka not answering (yet) is
    one more try on a new connection, not a failure."""
    admin: AIOKafkaAdminClient | None = None
    last: BaseException | None = None
    try:
        while True:
            if (pid := exited(pids)) is not None:
                raise GaveUp(f"Kafka (pid {pid}) exited while waiting for {what}")
            try:
                async with asyncio.timeout(15):
                    if admin is None:
                        admin = AIOKafkaAdminClient(**options)
                        await admin.start()
                    if await check(admin):
                        return
            except (KafkaError, OSError, TimeoutError) as error:
                last = error
                if admin is not None:
                    await admin.close()
                admin = None
            if time.monotonic() > deadline:
                raise GaveUp(f"gave up waiting for {what}" + (f" (last: {last!r})" if last else ""))
            await asyncio.sleep(0.2)
    finally:
        if admin is not None:
            await admin.close()


async def ready(args: argparse.Namespace) -> None:
    options = connection(args.bootstrap, args.security_dir)
    deadline = time.monotonic() + args.limit
    nodes, pids = args.node, args.pid or []
    await until(f"Kafka nodes {nodes} to register", registered(nodes), options, deadline, pids)
    made = topics_made(args.replication_factor, args.min_insync_replicas)
    await until("the topics", made, options, deadline, pids)
    if args.in_sync:
        await until(f"Kafka nodes {nodes} to join the ISR", in_sync(nodes), options, deadline, pids)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--security-dir", type=Path)
    commands = parser.add_subparsers(dest="command", required=True)
    wait = commands.add_parser("ready")
    wait.add_argument("--node", type=int, action="append", required=True)
    wait.add_argument("--pid", type=int, action="append")
    wait.add_argument("--replication-factor", type=int, default=1)
    wait.add_argument("--min-insync-replicas", type=int)
    wait.add_argument("--in-sync", action="store_true")
    wait.add_argument("--limit", type=float, default=180)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # aiokafka logs every refused connection while Kafka starts; the last error is in GaveUp.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        asyncio.run(ready(args))
    except GaveUp as error:
        say(str(error))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
