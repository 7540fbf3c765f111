"""The fault run's own stack (deploy/local/stack with its own state dir and ports): bring it up,
and kill or restart its services in the middle of the load."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "deploy" / "local" / "stack"


class StackError(RuntimeError):
    pass


@dataclass(frozen=True)
class Stack:
    state_dir: Path
    kafka_port: int
    pg_port: int
    redis_port: int
    kafka_nodes: int = 1

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            CDO_STACK_DIR=str(self.state_dir),
            KAFKA_PORT=str(self.kafka_port),
            PG_PORT=str(self.pg_port),
            REDIS_PORT=str(self.redis_port),
        )
        if self.kafka_nodes > 1:
            env["KAFKA_NODES"] = str(self.kafka_nodes)
        return env

    async def run(self, *args: str, timeout_s: float = 900) -> str:
        """One `stack` command; its stdout (the export lines of `up`). Raises on failure."""
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            str(STACK), *args, env=self.env(),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout_s)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise StackError(f"stack {' '.join(args)}: no end after {timeout_s:.0f}s") from None
        if process.returncode != 0:
            raise StackError(
                f"stack {' '.join(args)} failed ({process.returncode}) after "
                f"{time.monotonic() - started:.0f}s: {err.decode(errors='replace')[-2000:]}"
            )
        return out.decode()

    async def up(self) -> dict[str, str]:
        """Starts what is not running; the variables the services need (its export lines)."""
        exports: dict[str, str] = {}
        for line in (await self.run("up")).splitlines():
            name, sep, value = line.removeprefix("export ").partition("=")
            if line.startswith("export ") and sep:
                exports[name] = value
        missing = {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "REDIS_URL"} - exports.keys()
        if missing:
            raise StackError(f"stack up printed no {', '.join(sorted(missing))}")
        return exports

    async def down(self) -> None:
        await self.run("down")

    def kafka_node(self, node: int | None) -> tuple[str, ...]:
        """The node argument of kill-kafka / start-kafka: one node of a cluster, or the only one."""
        return (str(node),) if node is not None and self.kafka_nodes > 1 else ()

    async def kill_kafka(self, node: int | None = None) -> None:
        await self.run("kill-kafka", *self.kafka_node(node))

    async def start_kafka(self, node: int | None = None) -> None:
        await self.run("start-kafka", *self.kafka_node(node))

    async def restart_postgres(self) -> None:
        await self.run("restart-postgres")

    async def restart_redis(self) -> None:
        await self.run("restart-redis")
