"""bench/delivery's floor and yardsticks: the Kafka consume → POST floor (bench/kafka_floor.py)
run on a backlog, the receiver's count, and a rate between the first and the last piece of work.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime
from typing import Any

import httpx

from bench import report
from bench.environment import Environment, state_dir
from bench.kafka_floor import ensure_topic
from bench.sampling import cpu_seconds
from testing.processes import VENV_BIN, free_port, running
from testing.waiting import wait_until


def per_second(count: int, first: float | datetime | None, last: float | datetime | None) -> float:
    """The rate of `count` pieces of work done between the first's and the last's moments
    (seconds since the epoch, or datetimes): the `count - 1` intervals between them (0 when
    there are fewer than two, or no time passed)."""
    if count < 2 or first is None or last is None:
        return 0.0
    if isinstance(first, datetime) and isinstance(last, datetime):
        seconds = (last - first).total_seconds()
    elif isinstance(first, float | int) and isinstance(last, float | int):
        seconds = last - first
    else:
        raise TypeError("first and last must both be datetimes or both be seconds")
    return (count - 1) / seconds if seconds > 0 else 0.0


async def counted(receiver: str) -> dict[str, Any]:
    """bench/receiver.py's POSTs so far and when the first and the last came."""
    async with httpx.AsyncClient() as http:
        answer: dict[str, Any] = (await http.get(f"{receiver}/count")).json()
        return answer


async def drained_floor(
    environment: Environment, messages: int, rate: float, in_flight: int
) -> dict[str, Any]:
    """`messages` produced at `rate` to the floor's topic, consumed by one process that POSTs
    each to a receiver of its own with `in_flight` POSTs at once, each over a new connection as
    the notifier's are: POSTs/s, first to last arrival, and the consumer's CPU per POST."""
    await ensure_topic(environment.kafka)
    port = free_port()
    receiver = f"http://127.0.0.1:{port}"
    ready = state_dir("delivery") / f"floor-{secrets.token_hex(4)}.ready"
    env = environment.server_env()
    floor = [str(VENV_BIN / "python"), "-m", "bench.kafka_floor"]
    consume = [
        *floor, "consume", "--bootstrap", environment.kafka, "--receiver", f"{receiver}/hook/f",
        "--group", f"cdo-bench-delivery-floor-{secrets.token_hex(4)}", "--ready", str(ready),
        "--in-flight", str(in_flight), "--close",
    ]  # fmt: skip
    produce = [
        *floor, "produce", "--bootstrap", environment.kafka, "--rate", str(rate),
        "--seconds", str(messages / rate), "--out", str(ready.with_suffix(".json")),
    ]  # fmt: skip
    receiver_argv = [str(VENV_BIN / "python"), "-m", "bench.receiver", "--port", str(port)]
    logs = state_dir("logs")

    async def assigned() -> bool:
        return ready.exists()

    async def all_came() -> bool:
        return bool(int((await counted(receiver))["posts"]) >= messages)

    before = report.pressure()
    async with (
        running("floor-receiver", receiver_argv, env, logs, ready_url=f"{receiver}/count"),
        running("floor-consumer", consume, env, logs, ready=assigned) as consumer,
    ):
        cpu_before = cpu_seconds(consumer.pid)
        producer = await asyncio.create_subprocess_exec(*produce, env=env)
        await producer.wait()
        await wait_until(all_came, limit_s=600, what="the floor's POSTs", poll_s=0.2)
        count = await counted(receiver)
        cpu = cpu_seconds(consumer.pid) - cpu_before
    posts = count["posts"]
    figures = {
        "posts": posts,
        "per_s": round(per_second(posts, count["first_at"], count["last_at"]), 1),
        "in_flight": in_flight,
        "cpu_ms_per_post": round(1000 * cpu / max(1, posts), 2),
        "machine": f"{before} -> {report.pressure()}",
    }
    print(
        f"  floor: {posts} POSTs at {figures['per_s']:,.0f}/s,"
        f" {figures['cpu_ms_per_post']} ms CPU each\n    {figures['machine']}"
    )
    return figures
