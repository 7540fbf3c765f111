"""What filing accepts: a request's body by kind (share, return, demand, IT project), with the
rules of what each kind gives, and the period a body or a narrowing names."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from broker.directory.schemas import AwareDatetime
from broker.kit.inputs import Input
from broker.kit.validation_errors import Refusal
from broker.kit.windows import require_end_after_start
from core.words import KINDS_ZH


class PeriodIn(Input):
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> PeriodIn:
        require_end_after_start(self.start, self.end, start_field="start", end_field="end")
        return self


RequestKind = Literal["share", "return", "demand", "it_project"]
# What each kind must give, and what it may not: the rest of the body is common to all.
_KIND_NEEDS: dict[str, tuple[str, ...]] = {
    "share": ("dataset_id", "fields", "period"),
    "return": ("dataset_id", "fields", "period", "jurisdiction"),
    "demand": ("description", "presumed_provider_id", "period"),
    "it_project": ("project",),
}
_KIND_SPECIFIC = ("dataset_id", "fields", "jurisdiction", "description", "presumed_provider_id")
_LENGTHS = (
    ("dataset_id", 1, 100),
    ("fields", 1, 200),
    ("description", 4, 4000),
    ("presumed_provider_id", 1, 100),
)


class ProjectIn(Input):
    """An IT project (信息化项目) at a stage where its body's CDO may veto it (一票否决)."""

    name: str = Field(min_length=2, max_length=200)
    code: str = Field(min_length=1, max_length=60, description="the project's code (项目编号)")
    budget_cny: int = Field(ge=0, le=10**13, description="budget in yuan")
    stage: Literal["initiation", "acceptance"] = Field(description="立项 or 验收")


class RequestIn(Input):
    kind: RequestKind = Field(
        description="share 共享 and return 回流 name a dataset; demand 需求 asks for data the "
        "catalog lacks; it_project 信息化项目 asks the body's CDO to pass a project"
    )
    # Lengths of the kind-specific fields are checked by `_kind_gives_its_fields`, not as
    # constraints: an optional constrained value would make typed clients wrap it in a model.
    dataset_id: str | None = Field(default=None, description="share, return: 1-100 characters")
    fields: list[str] | None = Field(default=None, description="share, return: 1-200 names")
    purpose: str = Field(min_length=4, max_length=2000, description="purpose and usage scenario")
    legal_basis: str | None = Field(default=None, min_length=2, max_length=2000)
    period: PeriodIn | None = Field(
        default=None, description="the period wanted (share, return, demand)"
    )
    jurisdiction: str | None = Field(
        default=None,
        pattern=r"^\d{6}(\d{3})?$",
        description="for a return: the division code of the jurisdiction the data concerns",
    )
    description: str | None = Field(
        default=None, description="a demand: the data wanted, 4-4000 characters"
    )
    presumed_provider_id: str | None = Field(
        default=None, description="a demand: the body presumed to hold the data"
    )
    project: ProjectIn | None = Field(default=None, description="an IT project")

    @model_validator(mode="after")
    def _kind_gives_its_fields(self) -> RequestIn:
        needs = _KIND_NEEDS[self.kind]
        for name in needs:
            if getattr(self, name) is None:
                raise Refusal(
                    f"{name}: a {self.kind} request gives it",
                    f"{name}: {KINDS_ZH[self.kind]}须填写此项",
                )
        for name in (*_KIND_SPECIFIC, "project"):  # an IT project may give a period or not
            if name not in needs and getattr(self, name) is not None:
                raise Refusal(
                    f"{name}: not part of a {self.kind} request",
                    f"{name}: {KINDS_ZH[self.kind]}不填写此项",
                )
        for name, low, high in _LENGTHS:
            value = getattr(self, name)
            if value is not None and not low <= len(value) <= high:
                raise Refusal(
                    f"{name}: from {low} to {high} long", f"{name}: 长度应为 {low} 至 {high}"
                )
        if self.fields is not None and len(set(self.fields)) != len(self.fields):
            raise Refusal("fields: each field once", "fields: 每个数据项只能填写一次")
        return self
