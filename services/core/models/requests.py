"""Tables of the request lifecycle: requests, their planned steps, approvers, decisions,
escalations and clarifications. Rows are never deleted: they are the CDO evaluation's evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime


class DataRequest(Base):
    __tablename__ = "requests"
    __table_args__ = (
        UniqueConstraint("requester_id", "idempotency_key", name="uq_requests_idempotency"),
        Index("ix_requests_requester_created", "requester_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # share | return | demand | it_project
    requester_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    # None for an IT project, and for a demand until its approval drafts the catalog entry.
    dataset_id: Mapped[str | None] = mapped_column(ForeignKey("datasets.id"), index=True)
    # The dataset's owner; a demand's presumed provider; the body running an IT project.
    provider_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    # A demand (需求): the data wanted, which the catalog does not have.
    description: Mapped[str | None] = mapped_column(Text)
    # An IT project (信息化项目): {"name", "code", "budget_cny", "stage"}.
    project: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Who filed (the person signed in, else the client): an IT project is decided by its own
    # body's CDO, so separation of duties holds by person there.
    filed_by_person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    filed_by_client_id: Mapped[str | None] = mapped_column(String(100))
    fields: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    jurisdiction: Mapped[str | None] = mapped_column(String(12))
    # What an approval would grant: starts as asked, only ever narrowed by approvers.
    granted_fields: Mapped[list[str]] = mapped_column(JSON)
    granted_start: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_end: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), index=True)
    routing_rule: Mapped[str] = mapped_column(String(100))
    current_step: Mapped[int | None] = mapped_column(Integer)
    status_reason: Mapped[str | None] = mapped_column(Text)
    trace_id: Mapped[str] = mapped_column(String(32))
    span_id: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RequestStep(Base):
    __tablename__ = "request_steps"
    __table_args__ = (
        UniqueConstraint("request_id", "index", name="uq_request_steps_request_index"),
        Index("ix_request_steps_due", "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"))
    index: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(200))
    required: Mapped[int] = mapped_column(Integer)
    sla_seconds: Mapped[int] = mapped_column(Integer)
    # The limit in working days (requests/step_clock.py); None: `sla_seconds` of elapsed time.
    sla_working_days: Mapped[int | None] = mapped_column(Integer)
    # waiting -> pending (-> on_hold -> pending)* -> approved | rejected | cancelled
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_hold_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # Office time (working days, 09:00-18:00 CST) on hold: the evaluation's clock leaves it out.
    held_working_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # Set when `due_at` had to count a year the calendar does not know by weekends only.
    calendar_note: Mapped[str | None] = mapped_column(Text)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StepApprover(Base):
    """One body whose CDO must (or may, in an N-of-set step) decide a step. An escalation
    retires the lapsed approver (`replaced_at`) and adds the next one up the chain."""

    __tablename__ = "step_approvers"
    __table_args__ = (
        Index("ix_step_approvers_org", "organisation_id", "request_id"),
        # A request's approvers are read by every decision, escalation, reminder and answer
        # that shows the request; without it each one scans the whole table.
        Index("ix_step_approvers_request", "request_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    step_id: Mapped[str] = mapped_column(ForeignKey("request_steps.id"), index=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    acting_for: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    escalated_from: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Decision(Base):
    __tablename__ = "decisions"
    # One decision per approver per step: the database settles racing decisions.
    __table_args__ = (
        UniqueConstraint("step_id", "organisation_id", name="uq_decisions_step_org"),
        # The evaluation counts a window of decisions (reports/repository/measures.py,
        # evaluation/repository.py): on PostgreSQL the index carries what it reads, so a year
        # of the province's decisions is an index-only scan, not the table with its signatures.
        Index(
            "ix_decisions_created",
            "created_at",
            postgresql_include=[
                "organisation_id",
                "appointment_id",
                "decision",
                "delegation_id",
                "clock_seconds",
                "working_seconds",
                "request_id",
            ],
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    step_id: Mapped[str] = mapped_column(ForeignKey("request_steps.id"))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("cdo_appointments.id"))
    delegation_id: Mapped[str | None] = mapped_column(ForeignKey("cdo_delegations.id"))
    decided_by: Mapped[str] = mapped_column(String(100))
    on_behalf_of: Mapped[str | None] = mapped_column(String(100))
    # The person who signed in and decided (None: a system decided with client credentials).
    decided_by_person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    decided_by_person_name: Mapped[str | None] = mapped_column(String(100))
    caller_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    decision: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str | None] = mapped_column(Text)
    narrowing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Seconds the step's SLA clock ran before this decision, holds excluded (evaluation data).
    clock_seconds: Mapped[int] = mapped_column(Integer)
    # The same in working time (office hours of working days, holds excluded): what the
    # evaluation reports. Null on decisions recorded before working days were counted.
    working_seconds: Mapped[int | None] = mapped_column(Integer)
    # A compact JWS over the decision's content by the broker's key (requests/signing.py).
    signature: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Escalation(Base):
    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("step_id", "sequence", name="uq_escalations_step_seq"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    step_id: Mapped[str] = mapped_column(ForeignKey("request_steps.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    lapsed_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    lapsed_appointment_id: Mapped[str | None] = mapped_column(ForeignKey("cdo_appointments.id"))
    to_org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Clarification(Base):
    __tablename__ = "clarifications"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    step_id: Mapped[str] = mapped_column(ForeignKey("request_steps.id"))
    asked_by_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    question: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Appeal(Base):
    """A requester's appeal (申请协调) against a rejection or a narrowed approval: one per request
    (the unique request id settles a race), decided by the coordinator its route names now."""

    __tablename__ = "appeals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), unique=True)
    appellant_client: Mapped[str | None] = mapped_column(String(100))
    appellant_person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    reason: Mapped[str] = mapped_column(Text)
    grounds: Mapped[str] = mapped_column(String(20))  # rejected | narrowed
    # The bodies whose refusal is appealed: none of them coordinates.
    against: Mapped[list[str]] = mapped_column(JSON)
    # pending -> upheld | overturned
    status: Mapped[str] = mapped_column(String(20), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    decided_by_org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    decided_by_appointment_id: Mapped[str | None] = mapped_column(ForeignKey("cdo_appointments.id"))
    decided_by_client: Mapped[str | None] = mapped_column(String(100))
    decided_by_person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    decided_by_person_name: Mapped[str | None] = mapped_column(String(100))
    comment: Mapped[str | None] = mapped_column(Text)
    narrowing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AppealCoordinator(Base):
    """The appeal's route: whose CDO coordinates it; an escalation on lapse retires the current
    one (`replaced_at`) and adds the next one up, as a step's approvers do."""

    __tablename__ = "appeal_coordinators"
    __table_args__ = (Index("ix_appeal_coordinators_org", "organisation_id", "request_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    appeal_id: Mapped[str] = mapped_column(ForeignKey("appeals.id"), index=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    escalated_from: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
