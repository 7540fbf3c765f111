"""The Kafka topics of the CONTRACT, with their partition counts: the one list. deploy/local/stack
and the compose stack create them from here (deploy/local/kafka_admin.py); a cluster of your own
needs them made with these counts (deploy/k8s/README.md)."""

from __future__ import annotations

REQUESTS = "datashare.requests"  # key: request id
APPROVALS = "datashare.approvals"  # key: organisation id of the deciding CDO
GRANTS = "datashare.grants"  # key: grant id
NOTIFICATIONS_DLQ = "datashare.notifications.dlq"  # key: webhook id
# Messages a consumer could not read, as they came, with `dlq_*` headers (notifier.dead_letters).
DLQ = "datashare.dlq"  # key: the message's own

# A key's messages stay in order within its partition, so more partitions mean more consumers
# at once; the dead-letter topics see little traffic.
PARTITIONS: dict[str, int] = {REQUESTS: 6, APPROVALS: 6, GRANTS: 3, NOTIFICATIONS_DLQ: 3, DLQ: 3}
TOPICS = frozenset(PARTITIONS)
