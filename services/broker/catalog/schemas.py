from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from broker.kit.inputs import Input
from broker.kit.validation_errors import Refusal
from core.models.catalog import (
    DatasetStatus,
    Grade,
    OpenAttribute,
    SharingClass,
    SharingMethod,
    UpdateCycle,
)


def _no_duplicate_names(fields: list[DatasetField]) -> list[DatasetField]:
    names = [f.name for f in fields]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise Refusal(
            f"duplicate field names: {', '.join(duplicates)}",
            f"数据项名称重复：{'、'.join(duplicates)}",
        )
    return fields


class DatasetField(BaseModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    label: str = Field(min_length=1, max_length=100)
    personal: bool = Field(default=False, description="personal information (个人信息)")
    sensitive: bool = Field(
        default=False,
        description="sensitive personal information (敏感个人信息); implies `personal`",
    )

    @model_validator(mode="after")
    def _sensitive_is_personal(self) -> DatasetField:
        if self.sensitive and not self.personal:
            raise Refusal(
                "sensitive: sensitive personal information is personal too",
                "sensitive: 敏感个人信息也是个人信息（personal 须为 true）",
            )
        return self


class CatalogAttributes(BaseModel):
    """What a CDO reads to judge a request besides the class: the catalog's attributes."""

    grade: Grade = Field(
        default=Grade.general,
        description="数据分级: general 一般, important 重要 (adds the provider government's CDO), "
        "core 核心 (needs a legal basis and adds the provincial data bureau)",
    )
    resource_code: str | None = Field(
        default=None, max_length=60, description="资源代码 in the government data catalog"
    )
    sharing_conditions: str | None = Field(
        default=None, max_length=2000, description="共享条件, for a conditional dataset"
    )
    sharing_method: SharingMethod | None = Field(default=None, description="共享方式")
    update_cycle: UpdateCycle | None = Field(default=None, description="更新周期")
    open_attribute: OpenAttribute | None = Field(default=None, description="开放属性")


class DatasetOut(CatalogAttributes):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    name_en: str
    description: str | None
    owner_id: str
    sharing_class: SharingClass
    fields: list[DatasetField]
    status: DatasetStatus = Field(
        default=DatasetStatus.published,
        description="draft: created by an approved demand, not yet requestable",
    )


class DatasetIn(CatalogAttributes):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=2, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=2000)
    owner_id: str
    sharing_class: SharingClass
    fields: list[DatasetField] = Field(min_length=1, max_length=200)

    @field_validator("fields")
    @classmethod
    def _unique_names(cls, fields: list[DatasetField]) -> list[DatasetField]:
        return _no_duplicate_names(fields)


class DatasetChange(Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=2000)
    sharing_class: SharingClass | None = None
    fields: list[DatasetField] | None = Field(default=None, min_length=1, max_length=200)
    grade: Grade | None = None
    resource_code: str | None = Field(default=None, max_length=60)
    sharing_conditions: str | None = Field(default=None, max_length=2000)
    sharing_method: SharingMethod | None = None
    update_cycle: UpdateCycle | None = None
    open_attribute: OpenAttribute | None = None

    @field_validator("fields")
    @classmethod
    def _unique_names(cls, fields: list[DatasetField] | None) -> list[DatasetField] | None:
        return None if fields is None else _no_duplicate_names(fields)  # null: the fields stay
