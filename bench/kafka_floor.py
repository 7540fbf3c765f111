"""The floor of `bench/e2e`: a Kafka produce → consume round trip plus one HTTP POST.

`produce` sends messages at a constant rate with the relay's producer settings (idempotent,
acks=all) and writes when each was due; `consume` reads them in its own consumer group as the
notifier does (`getmany`, 200 ms, 500 records) and POSTs each to the receiver with httpx, as the
notifier's worker does (with `--close`, over a new connection each, `Connection: close`, as the
worker connects; without it, over connections kept alive). The receiver notes the arrivals. No
database, no signing, no routing: the least any submission → webhook path through Kafka must
take.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from testing import workloads

TOPIC = "cdo-bench.floor"  # the bench's own topic: the contract's topics carry only real events
PADDING = "x" * 1500  # an approval task's JSON is about this size


async def ensure_topic(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(TOPIC, num_partitions=6, replication_factor=1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        await admin.close()


async def produce(opts: argparse.Namespace) -> None:
    await ensure_topic(opts.bootstrap)
    producer = AIOKafkaProducer(
        bootstrap_servers=opts.bootstrap, enable_idempotence=True, acks="all"
    )
    await producer.start()
    due_times: dict[str, float] = {}
    try:
        async for i, due in workloads.paced(int(opts.rate * opts.seconds), opts.rate, lead_s=0.5):
            request_id = f"floor-{opts.nonce}-{i}"
            due_times[request_id] = due
            value = {
                "type": "approval.requested",
                "data": {"request_id": request_id, "route": PADDING},
            }
            await producer.send(TOPIC, json.dumps(value).encode(), key=f"org-{i % 10}".encode())
        await producer.flush()
    finally:
        await producer.stop()
    Path(opts.out).write_text(json.dumps(due_times))  # noqa: ASYNC240 (once, after the load)


async def consume(opts: argparse.Namespace) -> None:
    await ensure_topic(opts.bootstrap)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    consumer = AIOKafkaConsumer(
        TOPIC, bootstrap_servers=opts.bootstrap, group_id=opts.group, auto_offset_reset="latest"
    )
    await consumer.start()
    ready = Path(opts.ready)
    # As many POSTs in flight as the notifier allows the bench's ten endpoints (4 each).
    slots = asyncio.Semaphore(opts.in_flight)
    limits = httpx.Limits(max_connections=opts.in_flight)
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, pool=None), limits=limits) as http:

        async def post(body: bytes) -> None:
            async with slots:
                await _post(body)

        headers = {"content-type": "application/json"}
        if opts.close:
            headers["connection"] = "close"

        async def _post(body: bytes) -> None:
            await http.post(opts.receiver, content=body, headers=headers)

        pending: set[asyncio.Task[None]] = set()
        announced = False
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=500)
                if consumer.assignment() and not announced:
                    ready.write_text("assigned")  # noqa: ASYNC240 (once)
                    announced = True
                for records in batches.values():
                    for record in records:
                        task = asyncio.create_task(post(record.value))
                        pending.add(task)
                        task.add_done_callback(pending.discard)
        finally:
            await consumer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", choices=["produce", "consume"])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--nonce", default="")
    parser.add_argument("--out", default="")
    parser.add_argument("--group", default="cdo-bench-floor")
    parser.add_argument("--receiver", default="")
    parser.add_argument("--ready", default="", help="consume: a file written once assigned")
    parser.add_argument("--in-flight", type=int, default=40, help="consume: POSTs at once")
    parser.add_argument(
        "--close", action="store_true", help="consume: a new connection per POST, as the notifier"
    )
    opts = parser.parse_args()
    asyncio.run(produce(opts) if opts.role == "produce" else consume(opts))


if __name__ == "__main__":
    main()
