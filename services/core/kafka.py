"""How this process's Kafka clients connect, and the producer of everything that writes to the
topics: one set of options for the relay's producer, the notifier's consumer and the readiness
probe, so that TLS and SASL are configured in one place.

Governments run Kafka with TLS and SCRAM users, one principal per service with ACLs of its own
(deploy/local/kafka-acls.txt); a plaintext loopback Kafka (the local stack) needs nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.helpers import create_ssl_context

from core.settings import CoreSettings


def client_options(settings: CoreSettings) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client (producer, consumer, admin or bare client):
    the bootstrap servers and, as the `KAFKA_*` settings say, TLS and SASL."""
    if not settings.kafka_bootstrap_servers:
        raise ValueError("KAFKA_BOOTSTRAP_SERVERS is not set")
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": protocol,
    }
    if protocol in ("SSL", "SASL_SSL"):
        # Without KAFKA_SSL_CAFILE the system's trust store decides; hostnames are checked.
        options["ssl_context"] = create_ssl_context(
            cafile=settings.kafka_ssl_cafile,
            certfile=settings.kafka_ssl_certfile,
            keyfile=settings.kafka_ssl_keyfile,
        )
    if protocol.startswith("SASL_"):
        assert settings.kafka_sasl_password is not None  # the settings' validator saw to it
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return options


async def start_producer(kafka: Mapping[str, Any], client_id: str, **options: Any) -> Any:
    """A started producer, idempotent with `acks=all`, so a batch it retries reaches a partition
    once, and an ack means every in-sync replica has it. `kafka`: client_options (the servers,
    TLS and SASL); `options` are aiokafka's (timeouts, retry backoff)."""
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
