"""The Kafka producer of everything that writes to the topics (the relay, the consumers' dead
letters): idempotent with `acks=all`, so a batch it retries reaches a partition once, and an
ack means every in-sync replica has it."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer


async def start_producer(bootstrap_servers: str, client_id: str, **options: Any) -> Any:
    """A started producer; `options` are aiokafka's (timeouts, retry backoff)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        **options,
    )
    try:
        await producer.start()
    except BaseException:
        await producer.stop()
        raise
    return producer
