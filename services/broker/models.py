"""Every table, imported once so Alembic and create_all see the whole schema."""

from broker.audit.models import AuditEntry
from broker.catalog.models import Dataset
from broker.directory.models import Appointment, Delegation, Organisation
from broker.grants.models import Grant, GrantChange
from broker.kit.db import Base
from broker.notifications.models import NotificationChannel
from broker.oauth.models import AuthorizationCode, OAuthClient, RefreshToken
from broker.outbox.models import OutboxEvent
from broker.people.models import Person, PersonSession
from broker.requests.models import (
    Clarification,
    DataRequest,
    Decision,
    Escalation,
    RequestStep,
    StepApprover,
)
from broker.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Appointment",
    "AuditEntry",
    "AuthorizationCode",
    "Base",
    "Clarification",
    "DataRequest",
    "Dataset",
    "Decision",
    "Delegation",
    "Escalation",
    "Grant",
    "GrantChange",
    "NotificationChannel",
    "OAuthClient",
    "Organisation",
    "OutboxEvent",
    "Person",
    "PersonSession",
    "RefreshToken",
    "RequestStep",
    "StepApprover",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
