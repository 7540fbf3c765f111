"""Tables of the directory: organisations, CDO appointments and their delegations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from core.clock import utcnow
from core.db import Base, UTCDateTime, VersionCounter


class OrgKind(StrEnum):
    government = "government"
    department = "department"
    data_bureau = "data_bureau"


class Level(StrEnum):
    province = "province"
    city = "city"
    county = "county"
    town = "town"


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(20), index=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    government_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    pilot: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Appointment(Base):
    """A CDO appointment (任命) and its filing (备案). Rows are never deleted: history is kept."""

    __tablename__ = "cdo_appointments"
    __table_args__ = (
        Index("ix_cdo_appointments_org_window", "organisation_id", "starts_at"),
        # Receipts are numbered per bureau and year (directory/filing.py).
        UniqueConstraint("filed_with_id", "filing_year", "filing_sequence"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    person_name: Mapped[str] = mapped_column(String(100))
    # The person account of the CDO: only that person decides as the body's CDO.
    person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    appointed_by: Mapped[str] = mapped_column(String(200))
    filed_with_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    # The filing (备案): when the bureau took it, and the receipt (备案号) it gave.
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    filing_year: Mapped[int] = mapped_column(Integer)  # in China Standard Time
    filing_sequence: Mapped[int] = mapped_column(Integer)
    filing_receipt: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(Text)
    created_by_org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def is_active_at(self, moment: datetime) -> bool:
        return self.starts_at <= moment and (self.ends_at is None or moment < self.ends_at)

    @classmethod
    def in_force_at(cls, moment: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
        """`is_active_at` as a query asks it; `moment` a value or a column."""
        return and_(cls.starts_at <= moment, or_(cls.ends_at.is_(None), cls.ends_at > moment))


class Delegation(Base):
    """A CDO lets a named deputy decide for a period; decisions record on whose behalf."""

    __tablename__ = "cdo_delegations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    appointment_id: Mapped[str] = mapped_column(ForeignKey("cdo_appointments.id"), index=True)
    delegate_name: Mapped[str] = mapped_column(String(100))
    delegate_title: Mapped[str] = mapped_column(String(100))
    # The organisation whose systems the deputy decides through (usually the CDO's own body).
    delegate_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DirectoryVersion(VersionCounter, Base):
    """The version of the directory's tables above (core/db.VersionCounter)."""

    __tablename__ = "directory_version"
