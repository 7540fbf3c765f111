"""What the directory API accepts and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from broker.directory.filing import FilingState
from broker.kit.inputs import Input
from broker.kit.validation_errors import Refusal
from broker.kit.windows import require_end_after_start
from core.models.directory import Level, OrgKind

OrgId = Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise Refusal(
            "give a time zone, e.g. 2026-01-01T00:00:00+08:00",
            "须注明时区，如 2026-01-01T00:00:00+08:00",
        )
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class AppointmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organisation_id: str
    person_name: str
    person_id: str | None = Field(default=None, description="the CDO's person account")
    title: str
    appointed_by: str
    filed_with_id: str
    filed_at: datetime = Field(description="when the bureau took the filing")
    filing_receipt: str = Field(
        description="the filing receipt (备案号): the bureau's division code, the year and its "
        "sequence number that year, e.g. 440000-2021-0007"
    )
    starts_at: datetime
    ends_at: datetime | None
    end_reason: str | None
    created_at: datetime


class CDOSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    appointment_id: str = Field(validation_alias="id")
    person_name: str
    title: str
    starts_at: datetime
    ends_at: datetime | None


class OrganisationOut(BaseModel):
    id: str
    name: str
    name_en: str
    kind: OrgKind
    level: Level
    division_code: str
    government_id: str | None
    parent_id: str | None
    pilot: bool
    cdo: CDOSummary | None


class OrganisationIn(Input):
    id: OrgId
    name: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=300)
    kind: OrgKind
    level: Level
    division_code: str = Field(pattern=r"^\d{6}(\d{3})?$")
    government_id: str | None = None
    parent_id: str | None = None
    pilot: bool = False

    @model_validator(mode="after")
    def _shape(self) -> OrganisationIn:
        if self.kind is OrgKind.government and self.government_id is not None:
            raise Refusal(
                "government_id: a government does not belong to another government",
                "government_id: 人民政府不隶属于其他人民政府（上级政府填写在 parent_id）",
            )
        if self.kind is not OrgKind.government and self.government_id is None:
            raise Refusal(
                "government_id: a department or bureau belongs to a government",
                "government_id: 部门或数据管理局须隶属于一个人民政府",
            )
        return self


class OrganisationChange(Input):
    """What may change of a body. Its place in the tree (kind, level, government, parent) does
    not: that would move it between jurisdictions and under routes already planned."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, min_length=1, max_length=300)
    division_code: str | None = Field(default=None, pattern=r"^\d{6}(\d{3})?$")
    pilot: bool | None = None


class AppointmentIn(Input):
    organisation_id: str
    person_name: str = Field(min_length=1, max_length=100)
    person_id: str | None = Field(
        default=None,
        description="the CDO's person account (of the same body): only that person decides",
    )
    title: str = Field(min_length=1, max_length=100)
    appointed_by: str = Field(min_length=1, max_length=200)
    filed_with_id: str | None = Field(
        default=None,
        description="the data bureau the appointment is filed with (备案): a government's CDO "
        "with the bureau one level up (a city's with the provincial bureau), a department's or "
        "bureau's with its own government's; default: that bureau; another is 422 "
        "wrong-filing-bureau",
    )
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    replaces: str | None = Field(
        default=None,
        description="id of the current appointment this one succeeds; it ends at starts_at",
    )

    @model_validator(mode="after")
    def _window(self) -> AppointmentIn:
        require_end_after_start(
            self.starts_at, self.ends_at, start_field="starts_at", end_field="ends_at"
        )
        return self


class AppointmentEnd(Input):
    ends_at: AwareDatetime | None = Field(default=None, description="default: now")
    reason: str = Field(min_length=1, max_length=1000)


class DelegationIn(Input):
    organisation_id: str | None = Field(
        default=None, description="whose CDO delegates; default: the caller's organisation"
    )
    delegate_name: str = Field(min_length=1, max_length=100)
    delegate_title: str = Field(min_length=1, max_length=100)
    delegate_org_id: str | None = Field(
        default=None, description="the body whose systems the deputy uses; default: the same"
    )
    starts_at: AwareDatetime = Field(
        description="now or later (a few minutes' clock skew is tolerated)"
    )
    ends_at: AwareDatetime = Field(
        description="at most one year after starts_at, and not after the appointment ends"
    )
    reason: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _window(self) -> DelegationIn:
        require_end_after_start(
            self.starts_at, self.ends_at, start_field="starts_at", end_field="ends_at"
        )
        return self


class DelegationRevokeIn(Input):
    reason: str | None = Field(default=None, max_length=1000)


class DelegationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    appointment_id: str
    delegate_name: str
    delegate_title: str
    delegate_org_id: str
    starts_at: datetime
    ends_at: datetime
    reason: str | None
    revoked_at: datetime | None
    created_at: datetime


class RosterEntry(BaseModel):
    organisation_id: str
    organisation_name: str
    kind: OrgKind
    level: Level
    pilot: bool
    filing_state: FilingState = Field(
        description="filed: a CDO in office, filed with the bureau the rules name; misfiled: "
        "filed with another (before the rule, or since the body moved); vacant: no CDO in office"
    )
    expected_filed_with_id: str | None = Field(
        description="the data bureau the rules name for this body's CDO"
    )
    cdo: CDOSummary | None
    filed_with_id: str | None
    filing_receipt: str | None = Field(description="the filing receipt (备案号)")
    filed_at: datetime | None


class CdoRoster(BaseModel):
    organisation_id: str
    as_of: datetime
    counts: dict[FilingState, int] = Field(description="the entries listed, by filing state")
    entries: list[RosterEntry]
