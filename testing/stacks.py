"""A stack is one `deploy/local/stack`: its state dir and ports, and its commands (up, down, kill or
restart a service). The suite's own is `Stack.default()`; tests that need services the default
stack does not run (a Kafka cluster) and the fault run start stacks of their own."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from testing import REPO_ROOT

SCRIPT = REPO_ROOT / "deploy" / "local" / "stack"


class StackFailed(AssertionError):
    """A `stack` command failed (in a test, a failure like any assert)."""


def exported(stdout: str) -> dict[str, str]:
    """The variables of `export NAME=value` lines (a single-quoted value unquoted)."""
    return {
        name: value.removeprefix("'").removesuffix("'")
        for name, value in re.findall(r"^export (\w+)=(.*)$", stdout, re.M)
    }


@dataclass(frozen=True)
class Stack:
    state_dir: Path
    kafka_port: int = 19092
    pg_port: int = 55432
    redis_port: int = 56379
    kafka_nodes: int = 1  # a cluster's are on kafka_port + 2N
    env: Mapping[str, str] = field(default_factory=dict)  # more of `stack`'s settings

    @classmethod
    def default(cls) -> Stack:
        """The stack deploy/local/test started, as this process's environment names it."""
        state_dir = Path(os.environ.get("CDO_STACK_DIR") or REPO_ROOT / ".stack")
        nodes = state_dir / "kafka" / "nodes"
        return cls(
            state_dir,
            kafka_port=int(os.environ.get("KAFKA_PORT", "19092")),
            pg_port=int(os.environ.get("PG_PORT", "55432")),
            redis_port=int(os.environ.get("REDIS_PORT", "56379")),
            kafka_nodes=int(nodes.read_text()) if nodes.is_file() else 1,
        )

    @property
    def kafka_bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{self.kafka_port + 2 * n}" for n in range(self.kafka_nodes))

    def environment(self) -> dict[str, str]:
        env = dict(os.environ) | {
            "CDO_STACK_DIR": str(self.state_dir),
            "KAFKA_PORT": str(self.kafka_port),
            "PG_PORT": str(self.pg_port),
            "REDIS_PORT": str(self.redis_port),
        }
        env.pop("KAFKA_NODES", None)
        # Read by `stack` only while the state dir has no Kafka; after, it remembers the count.
        if not (self.state_dir / "kafka" / "nodes").is_file():
            env["KAFKA_NODES"] = str(self.kafka_nodes)
        return env | dict(self.env)

    async def run(self, *args: str, check: bool = True, limit_s: float = 900) -> str:
        """One `stack` command; its stdout (the export lines of `up`). Raises StackFailed when
        it fails, unless `check` is false."""
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            str(SCRIPT), *args, env=self.environment(),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(process.communicate(), limit_s)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise StackFailed(f"stack {' '.join(args)}: no end after {limit_s:.0f}s") from None
        if check and process.returncode != 0:
            raise StackFailed(
                f"stack {' '.join(args)}: exit {process.returncode} after "
                f"{time.monotonic() - started:.0f}s\n{err.decode(errors='replace')[-4000:]}"
            )
        return out.decode()

    async def up(self) -> dict[str, str]:
        """Starts what is not running; the variables the services need (its export lines)."""
        exports = exported(await self.run("up"))
        missing = {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "REDIS_URL"} - exports.keys()
        if missing:
            raise StackFailed(f"stack up printed no {', '.join(sorted(missing))}")
        return exports

    async def down(self) -> None:
        await self.run("down")

    async def running(self) -> set[str]:
        """The services (Kafka nodes) that run."""
        return set(await self.pids())

    async def pids(self) -> dict[str, int]:
        """The pid of each service (each Kafka node) that runs."""
        status = await self.run("status", check=False)  # exit 3: one is stopped
        return {
            name: int(pid)
            for name, pid in re.findall(r"^(\S+)\s+running\s+pid (\d+)", status, re.M)
        }

    def _node(self, node: int | None) -> tuple[str, ...]:
        """The node argument of the Kafka commands: one node of a cluster, or every node."""
        return (str(node),) if node is not None and self.kafka_nodes > 1 else ()

    async def kill_kafka(self, node: int | None = None) -> None:
        await self.run("kill-kafka", *self._node(node))

    async def stop_kafka(self, node: int | None = None) -> None:
        await self.run("stop-kafka", *self._node(node))

    async def start_kafka(self, node: int | None = None) -> None:
        await self.run("start-kafka", *self._node(node))

    async def restart_kafka(self) -> None:
        await self.run("restart-kafka")

    async def restart_postgres(self) -> None:
        await self.run("restart-postgres")

    async def restart_redis(self) -> None:
        await self.run("restart-redis")

    def borrow(self, part: str, stamp: str) -> None:
        """Hard links to the default stack's `part` (Kafka's jars), if it has them with their
        `stamp`: `stack` checks them as it would its own, and skips a Maven run."""
        source = Stack.default().state_dir / part
        if (source / stamp).is_file():
            shutil.copytree(source, self.state_dir / part, copy_function=_link_or_copy)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)


@asynccontextmanager
async def own_kafka(
    state_dir: Path, port: int, nodes: int = 1, env: Mapping[str, str] | None = None
) -> AsyncIterator[Stack]:
    """Only the Kafka of a stack of its own (`start-kafka`, with more of `stack`'s settings in
    `env`), stopped and removed afterwards whatever the outcome."""
    stack = Stack(state_dir, kafka_port=port, kafka_nodes=nodes, env=dict(env or {}))
    stack.borrow("kafka/libs", ".pom-sha256")
    try:
        await stack.start_kafka()
        yield stack
    finally:
        try:
            await stack.down()
        finally:
            shutil.rmtree(state_dir, ignore_errors=True)


class KafkaSwitch:
    """Stops and starts a stack's Kafka, remembering whether it was left down."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.down = False

    async def stop(self) -> None:
        self.down = True
        await self.stack.stop_kafka()

    async def start(self) -> None:
        await self.stack.start_kafka()
        self.down = False
