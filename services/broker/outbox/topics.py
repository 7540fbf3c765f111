"""The Kafka topics of the CONTRACT (created by deploy/local/stack from deploy/local/topics.txt)."""

from __future__ import annotations

REQUESTS = "datashare.requests"  # key: request id
APPROVALS = "datashare.approvals"  # key: organisation id of the deciding CDO
GRANTS = "datashare.grants"  # key: grant id
NOTIFICATIONS_DLQ = "datashare.notifications.dlq"  # key: webhook id

TOPICS = frozenset({REQUESTS, APPROVALS, GRANTS, NOTIFICATIONS_DLQ})
