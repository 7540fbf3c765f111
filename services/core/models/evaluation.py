"""Scores a data bureau enters for the CDO evaluation (评价): the indicators the broker cannot
compute (key tasks, daily management), with the bureau's comment. Rows are never changed: a
new score for the same body, indicator and period supersedes the earlier one."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime


class EvaluationScore(Base):
    __tablename__ = "evaluation_scores"
    __table_args__ = (Index("ix_evaluation_scores_org_period", "organisation_id", "period_start"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    indicator: Mapped[str] = mapped_column(String(60))
    # The period scored, as China Standard Time dates, end exclusive (a year: 01-01 to 01-01).
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    score: Mapped[int] = mapped_column(Integer)  # 0-100
    comment: Mapped[str] = mapped_column(Text)
    entered_by_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    entered_by_person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
