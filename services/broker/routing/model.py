"""Plain data the routing functions take and give: no ORM, no session, no clock.

The caller (the request lifecycle) builds a `DirectoryView` from the database once per filing and
hands it, with a `RoutingRequest`, to `plan_route`. Everything here is frozen so a plan can be
computed, compared and logged without anyone mutating it underneath.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

KINDS = ("government", "department", "data_bureau")
LEVELS = ("province", "city", "county", "town")
REQUEST_KINDS = ("share", "return", "demand", "it_project")
# Kinds that name a dataset of the catalog: only they have a sharing class and a grade.
DATASET_KINDS = ("share", "return")
# Kinds a body's own CDO decides by design (the CDO's veto over the body's IT projects): the
# requester body may decide; separation of duties holds by person (whoever filed never decides).
OWN_CDO_KINDS = ("it_project",)
SHARING_CLASSES = ("unconditional", "conditional", "not_shareable")
GRADES = ("general", "important", "core")


class RoutingError(Exception):
    """The directory cannot support a plan (unknown body, broken tree, no bureau to stand in).

    A data or programming error on the caller's side, never a decision about the request.
    """


class NoIndependentApprover(RoutingError):
    """Every body that could decide a step is the requester itself (separation of duties)."""


@dataclass(frozen=True)
class OrgView:
    id: str
    kind: str  # government | department | data_bureau
    level: str  # province | city | county | town
    government_id: str | None  # departments and bureaus: the government they belong to
    parent_id: str | None  # governments: the government one level up
    has_active_cdo: bool

    def __post_init__(self) -> None:
        # Catch a caller passing e.g. an enum repr or a typo before it silently matches nothing.
        if self.kind not in KINDS:
            raise ValueError(f"organisation {self.id!r}: unknown kind {self.kind!r}")
        if self.level not in LEVELS:
            raise ValueError(f"organisation {self.id!r}: unknown level {self.level!r}")


@dataclass(frozen=True)
class DirectoryView:
    organisations: Mapping[str, OrgView]
    # government id -> its own data bureau; built once so planning never scans the directory.
    _bureau_of_government: Mapping[str, str] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        bureaus: dict[str, str] = {}
        # Sorted so that a directory with two bureaus for one government still plans the same way.
        for org in sorted(self.organisations.values(), key=lambda o: o.id):
            if org.kind == "data_bureau" and org.government_id is not None:
                bureaus.setdefault(org.government_id, org.id)
        object.__setattr__(self, "_bureau_of_government", bureaus)

    @classmethod
    def of(cls, organisations: Iterable[OrgView]) -> DirectoryView:
        return cls({org.id: org for org in organisations})

    def organisation(self, org_id: str) -> OrgView:
        """The body, or RoutingError naming the unknown id."""
        try:
            return self.organisations[org_id]
        except KeyError:
            raise RoutingError(f"organisation {org_id!r} is not in the directory") from None

    def government_of(self, org_id: str) -> str:
        """The government a body belongs to; a government is its own."""
        org = self.organisation(org_id)
        if org.kind == "government":
            return org.id
        if org.government_id is None:
            raise RoutingError(f"{org.kind} {org_id!r} belongs to no government")
        return org.government_id

    def bureau_of_government(self, government_id: str) -> str | None:
        """The data bureau of exactly this government (counties and towns have none)."""
        return self._bureau_of_government.get(government_id)

    def governments_up(self, org_id: str) -> Iterator[str]:
        """The body's government, then each government above it, ending at the province."""
        seen: set[str] = set()
        current: str | None = self.government_of(org_id)
        while current is not None:
            if current in seen:  # a cycle in the data would otherwise loop forever
                raise RoutingError(f"government {current!r} is its own ancestor")
            seen.add(current)
            yield current
            current = self.organisation(current).parent_id

    def data_bureau_for(self, org_id: str) -> str | None:
        """The nearest data bureau: the body's government's, else that of a government above."""
        for government in self.governments_up(org_id):
            bureau = self._bureau_of_government.get(government)
            if bureau is not None:
                return bureau
        return None

    def provincial_bureau_above(self, org_id: str) -> str | None:
        """The data bureau of the top government above the body (the provincial bureau)."""
        *_, top = self.governments_up(org_id)
        return self._bureau_of_government.get(top)

    def is_cross_level(self, a: str, b: str) -> bool:
        return self.organisation(a).level != self.organisation(b).level


@dataclass(frozen=True)
class RoutingRequest:
    kind: str  # share | return | demand | it_project
    requester_id: str
    # The dataset's owner; for a demand the presumed provider; for an IT project the body
    # running it (the requester itself).
    provider_id: str
    sharing_class: str | None  # unconditional | conditional | not_shareable; None: no dataset
    has_legal_basis: bool
    grade: str | None = "general"  # general | important | core; None: no dataset

    def __post_init__(self) -> None:
        # Unknown values would match no rule; reject them where the mistake is made.
        if self.kind not in REQUEST_KINDS:
            raise ValueError(f"unknown request kind {self.kind!r}")
        if self.kind not in DATASET_KINDS:
            if self.sharing_class is not None or self.grade is not None:
                raise ValueError(f"a {self.kind} names no dataset: no sharing class, no grade")
        elif self.sharing_class not in SHARING_CLASSES:
            raise ValueError(f"unknown sharing class {self.sharing_class!r}")
        elif self.grade not in GRADES:
            raise ValueError(f"unknown grade {self.grade!r}")

    @property
    def excluded_approver(self) -> str | None:
        """The body that may not decide: the requester, except where its own CDO decides."""
        return None if self.kind in OWN_CDO_KINDS else self.requester_id


@dataclass(frozen=True)
class Approver:
    organisation_id: str  # the body whose CDO decides (a bureau when the body has no active CDO)
    acting_for: str | None = None  # the body a bureau stands in for (DOMAIN rule 4)


@dataclass(frozen=True)
class PlannedStep:
    index: int  # 0-based; steps run in sequence
    role: str  # the policy's roles for this step, joined by "+"
    approvers: tuple[Approver, ...]
    required: int  # how many of `approvers` must approve; 1 <= required <= len(approvers)
    sla_seconds: int  # elapsed seconds, or the nominal length of a working-day limit
    sla_working_days: int | None = None  # the limit in working days (None: in sla_seconds)


@dataclass(frozen=True)
class Plan:
    outcome: Literal["approve", "route", "refuse"]
    steps: tuple[PlannedStep, ...]
    rule: str  # the name of the policy rule that matched
    reason: str | None = None  # why, for a refusal
