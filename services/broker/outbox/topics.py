"""The Kafka topics of the CONTRACT (created by deploy/local/stack from deploy/local/topics.txt)."""

from __future__ import annotations

REQUESTS = "datashare.requests"  # key: request id
APPROVALS = "datashare.approvals"  # key: organisation id of the deciding CDO
GRANTS = "datashare.grants"  # key: grant id
NOTIFICATIONS_DLQ = "datashare.notifications.dlq"  # key: webhook id
# Messages a consumer could not read, as they came, with `dlq_*` headers (notifier.dead_letters).
DLQ = "datashare.dlq"  # key: the message's own

TOPICS = frozenset({REQUESTS, APPROVALS, GRANTS, NOTIFICATIONS_DLQ, DLQ})
