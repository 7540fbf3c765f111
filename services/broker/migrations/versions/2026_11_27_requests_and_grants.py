"""requests and grants

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 06:30:46.484700
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db
from broker.migrations.tables import drop_table, foreign_key, index_columns

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("requester_id", sa.String(length=64), nullable=False),
        sa.Column("dataset_id", sa.String(length=100), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("period_start", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("jurisdiction", sa.String(length=12), nullable=True),
        sa.Column("granted_fields", sa.JSON(), nullable=False),
        sa.Column("granted_start", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("granted_end", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("routing_rule", sa.String(length=100), nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", core.db.UTCDateTime(timezone=True), nullable=True),
        foreign_key("requests", "dataset_id", "datasets"),
        foreign_key("requests", "provider_id", "organisations"),
        foreign_key("requests", "requester_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requests")),
        sa.UniqueConstraint("requester_id", "idempotency_key", name="uq_requests_idempotency"),
    )
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_requests_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_requests_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index("ix_requests_requester_created", ["requester_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_requests_status"), ["status"], unique=False)

    op.create_table(
        "grants",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("grantee_id", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("dataset_id", sa.String(length=100), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=12), nullable=True),
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("starts_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decision_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        foreign_key("grants", "dataset_id", "datasets"),
        foreign_key("grants", "grantee_id", "organisations"),
        foreign_key("grants", "provider_id", "organisations"),
        foreign_key("grants", "request_id", "requests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
        sa.UniqueConstraint("request_id", name=op.f("uq_grants_request_id")),
    )
    index_columns("grants", "dataset_id", "grantee_id", "provider_id", "status")

    op.create_table(
        "request_steps",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("required", sa.Integer(), nullable=False),
        sa.Column("sla_seconds", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("on_hold_since", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("held_seconds", sa.Integer(), nullable=False),
        sa.Column("reminded_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("decided_at", core.db.UTCDateTime(timezone=True), nullable=True),
        foreign_key("request_steps", "request_id", "requests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_steps")),
        sa.UniqueConstraint("request_id", "index", name="uq_request_steps_request_index"),
    )
    with op.batch_alter_table("request_steps", schema=None) as batch_op:
        batch_op.create_index("ix_request_steps_due", ["status", "due_at"], unique=False)

    op.create_table(
        "clarifications",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("step_id", sa.String(length=40), nullable=False),
        sa.Column("asked_by_org_id", sa.String(length=64), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("asked_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", core.db.UTCDateTime(timezone=True), nullable=True),
        foreign_key("clarifications", "asked_by_org_id", "organisations"),
        foreign_key("clarifications", "request_id", "requests"),
        foreign_key("clarifications", "step_id", "request_steps"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clarifications")),
    )
    index_columns("clarifications", "request_id")

    op.create_table(
        "decisions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("step_id", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("appointment_id", sa.String(length=40), nullable=True),
        sa.Column("delegation_id", sa.String(length=40), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("on_behalf_of", sa.String(length=100), nullable=True),
        sa.Column("caller_org_id", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("narrowing", sa.JSON(), nullable=True),
        sa.Column("clock_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        foreign_key("decisions", "appointment_id", "cdo_appointments"),
        foreign_key("decisions", "caller_org_id", "organisations"),
        foreign_key("decisions", "delegation_id", "cdo_delegations"),
        foreign_key("decisions", "organisation_id", "organisations"),
        foreign_key("decisions", "request_id", "requests"),
        foreign_key("decisions", "step_id", "request_steps"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
        sa.UniqueConstraint("step_id", "organisation_id", name="uq_decisions_step_org"),
    )
    index_columns("decisions", "request_id")

    op.create_table(
        "escalations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("step_id", sa.String(length=40), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("lapsed_org_id", sa.String(length=64), nullable=False),
        sa.Column("lapsed_appointment_id", sa.String(length=40), nullable=True),
        sa.Column("to_org_id", sa.String(length=64), nullable=True),
        sa.Column("due_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        foreign_key("escalations", "lapsed_appointment_id", "cdo_appointments"),
        foreign_key("escalations", "lapsed_org_id", "organisations"),
        foreign_key("escalations", "request_id", "requests"),
        foreign_key("escalations", "step_id", "request_steps"),
        foreign_key("escalations", "to_org_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
        sa.UniqueConstraint("step_id", "sequence", name="uq_escalations_step_seq"),
    )
    index_columns("escalations", "lapsed_org_id", "request_id")

    op.create_table(
        "step_approvers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("step_id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("acting_for", sa.String(length=64), nullable=True),
        sa.Column("escalated_from", sa.String(length=64), nullable=True),
        sa.Column("added_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", core.db.UTCDateTime(timezone=True), nullable=True),
        foreign_key("step_approvers", "acting_for", "organisations"),
        foreign_key("step_approvers", "escalated_from", "organisations"),
        foreign_key("step_approvers", "organisation_id", "organisations"),
        foreign_key("step_approvers", "request_id", "requests"),
        foreign_key("step_approvers", "step_id", "request_steps"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_approvers")),
    )
    with op.batch_alter_table("step_approvers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_step_approvers_org", ["organisation_id", "request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_step_approvers_step_id"), ["step_id"], unique=False)


def downgrade() -> None:
    drop_table("step_approvers", "ix_step_approvers_step_id", "ix_step_approvers_org")
    drop_table("escalations", "ix_escalations_request_id", "ix_escalations_lapsed_org_id")
    drop_table("decisions", "ix_decisions_request_id")
    drop_table("clarifications", "ix_clarifications_request_id")
    drop_table("request_steps", "ix_request_steps_due")
    drop_table(
        "grants",
        "ix_grants_status",
        "ix_grants_provider_id",
        "ix_grants_grantee_id",
        "ix_grants_dataset_id",
    )
    drop_table(
        "requests",
        "ix_requests_status",
        "ix_requests_requester_created",
        "ix_requests_provider_id",
        "ix_requests_dataset_id",
    )
