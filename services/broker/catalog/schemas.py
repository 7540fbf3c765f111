from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.models.catalog import SharingClass


def _no_duplicate_names(fields: list[DatasetField]) -> list[DatasetField]:
    names = [f.name for f in fields]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate field names: {', '.join(duplicates)}")
    return fields


class DatasetField(BaseModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    label: str = Field(min_length=1, max_length=100)


class DatasetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    name_en: str
    description: str | None
    owner_id: str
    sharing_class: SharingClass
    fields: list[DatasetField]


class DatasetIn(BaseModel):
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


class DatasetChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=2000)
    sharing_class: SharingClass | None = None
    fields: list[DatasetField] | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("fields")
    @classmethod
    def _unique_names(cls, fields: list[DatasetField] | None) -> list[DatasetField] | None:
        return None if fields is None else _no_duplicate_names(fields)  # null: the fields stay
