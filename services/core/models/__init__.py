"""Every table, imported once so Alembic and create_all see the whole schema."""

from core.db import Base
from core.models.audit import AuditEntry
from core.models.catalog import Dataset
from core.models.directory import Appointment, Delegation, Organisation
from core.models.evaluation import EvaluationScore
from core.models.grants import Grant, GrantChange, GrantUseBatch
from core.models.notifications import NotificationChannel
from core.models.oauth import AuthorizationCode, OAuthClient, RefreshToken
from core.models.outbox import OutboxEvent
from core.models.people import Person, PersonSession
from core.models.problems import ProblemNamedOrganisation, ProblemNamedRequest, ProblemReport
from core.models.requests import (
    Appeal,
    AppealCoordinator,
    Clarification,
    DataRequest,
    Decision,
    Escalation,
    RequestStep,
    StepApprover,
)
from core.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Appeal",
    "AppealCoordinator",
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
    "EvaluationScore",
    "Grant",
    "GrantChange",
    "GrantUseBatch",
    "NotificationChannel",
    "OAuthClient",
    "Organisation",
    "OutboxEvent",
    "Person",
    "PersonSession",
    "ProblemNamedOrganisation",
    "ProblemNamedRequest",
    "ProblemReport",
    "RefreshToken",
    "RequestStep",
    "StepApprover",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
