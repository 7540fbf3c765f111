"""The Kafka producer of everything that writes to the topics (the relay, the consumers' dead
letters): idempotent with `acks=all`, so a batch it retries reaches a partition once, and an
ack means every in-sync replica has it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaProducer


async def start_producer(kafka: Mapping[str, Any], client_id: str, **options: Any) -> Any:
    """A started producer; `kafka`: kit.kafka.client_options (the servers, TLS and SASL);
    `options` are aiokafka's (timeouts, retry backoff)."""
    producer = AIOKafkaProducer(
        **kafka,
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
