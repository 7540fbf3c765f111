"""The problem reports table. Rows are never deleted: reports and their answers are evidence of
the scheme's coordination (the evaluation counts them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime


class ProblemReport(Base):
    __tablename__ = "problem_reports"
    __table_args__ = (
        Index("ix_problem_reports_reporter", "reporter_id", "id"),
        Index("ix_problem_reports_addressed", "addressed_to", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    reporter_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    reported_by_client: Mapped[str | None] = mapped_column(String(100))
    reported_by_person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    # The provincial data bureau when it was filed: it answers.
    addressed_to: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    summary: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text)
    concerned_organisations: Mapped[list[str]] = mapped_column(JSON)
    concerned_requests: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))  # open -> answered
    resolution: Mapped[str | None] = mapped_column(Text)
    answered_by_client: Mapped[str | None] = mapped_column(String(100))
    answered_by_person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProblemNamedOrganisation(Base):
    """A body a report names, one row each: who may read the report and is told of it, and the
    evaluation's count of reports naming a body, found by index (the report's JSON list keeps
    the order the reporter gave)."""

    __tablename__ = "problem_named_organisations"
    __table_args__ = (Index("ix_problem_named_organisations_org", "organisation_id", "problem_id"),)

    problem_id: Mapped[str] = mapped_column(ForeignKey("problem_reports.id"), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProblemNamedRequest(Base):
    """A request a report names, one row each: the request's timeline shows the report."""

    __tablename__ = "problem_named_requests"
    __table_args__ = (Index("ix_problem_named_requests_request", "request_id", "problem_id"),)

    problem_id: Mapped[str] = mapped_column(ForeignKey("problem_reports.id"), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), primary_key=True)
