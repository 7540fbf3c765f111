"""The transactional outbox: events commit with the change they describe; a relay publishes them.

Services call `record_event(session, ...)` inside the caller's transaction (it only adds the
row); the `OutboxRelay` running in the broker (or `cdo-broker relay`) sends committed rows to the
CONTRACT's Kafka topics as CloudEvents and marks them sent. See `relay` for the guarantees.
"""

from broker.outbox.models import SHARDS, OutboxEvent, shard_of
from broker.outbox.relay import OutboxRelay, RelayStats
from broker.outbox.service import backlog, record_event

__all__ = [
    "SHARDS",
    "OutboxEvent",
    "OutboxRelay",
    "RelayStats",
    "backlog",
    "record_event",
    "shard_of",
]
