"""The consumers' dead-letter exit: a message that cannot be read goes to `datashare.dlq` as it
came (key, value, headers) plus `dlq_reason` (a stable code, `notifier.messages.Reason`),
`dlq_error` (the detail), and where it was: `dlq_topic`, `dlq_partition`, `dlq_offset`.

`send` returns once Kafka has acknowledged every letter (idempotent producer, `acks=all`), and
only then may the consumer commit past them. A Kafka outage makes it raise after
`ACK_TIMEOUT_S`, so the consumer starts again from its last commit: a letter may then reach the
topic twice, the same (`dlq_topic`, `dlq_partition`, `dlq_offset`) each time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.structs import ConsumerRecord

from core import topics
from core.kafka import start_producer
from core.metrics import instruments
from notifier.messages import Reason

logger = logging.getLogger(__name__)
ACK_TIMEOUT_S = 30.0
HEADERS = ("dlq_reason", "dlq_error", "dlq_topic", "dlq_partition", "dlq_offset")


@dataclass(frozen=True)
class DeadLetter:
    record: ConsumerRecord[bytes, bytes]
    reason: Reason
    detail: str


def letter_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    """The message's own headers (less any earlier `dlq_*`), then where and why it failed."""
    record = letter.record
    kept = [(name, bytes(value)) for name, value in record.headers if name not in HEADERS]
    added = {
        "dlq_reason": letter.reason.value,
        "dlq_error": letter.detail,
        "dlq_topic": record.topic,
        "dlq_partition": str(record.partition),
        "dlq_offset": str(record.offset),
    }
    return kept + [(name, value.encode()) for name, value in added.items()]


def original_headers(headers: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """A letter's headers as the message first carried them (for a replay)."""
    return [(name, bytes(value)) for name, value in headers if name not in HEADERS]


class DeadLetterProducer:
    """Started on the first letter (most runs have none) and kept until `close`."""

    def __init__(self, kafka: Mapping[str, Any], *, client_id: str = "cdo-notifier-dlq") -> None:
        self._kafka = kafka  # core.kafka.client_options: the servers, TLS and SASL
        self._client_id = client_id
        self._producer: Any = None

    async def send(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        producer = await self._started()
        async with asyncio.timeout(ACK_TIMEOUT_S):
            acks = [
                await producer.send(
                    topics.DLQ,
                    key=letter.record.key,
                    value=letter.record.value,
                    headers=letter_headers(letter),
                )
                for letter in letters
            ]
            await asyncio.gather(*acks)
        meters = instruments()
        for letter in letters:
            record = letter.record
            meters.dead_lettered.add(1, {"topic": record.topic, "reason": letter.reason.value})
            logger.warning(
                "dead-lettered %s[%d]@%d to %s: %s: %s",
                record.topic,
                record.partition,
                record.offset,
                topics.DLQ,
                letter.reason.value,
                letter.detail,
            )

    async def _started(self) -> Any:
        if self._producer is None:
            self._producer = await start_producer(self._kafka, self._client_id)
        return self._producer

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await asyncio.wait_for(producer.stop(), ACK_TIMEOUT_S)
            except Exception as exc:
                logger.warning("closing the dead-letter producer: %r", exc)
