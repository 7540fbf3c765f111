"""The data catalog (政务数据资源目录): datasets, each owned by one department."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime, VersionCounter


class SharingClass(StrEnum):
    unconditional = "unconditional"  # 无条件共享
    conditional = "conditional"  # 有条件共享
    not_shareable = "not_shareable"  # 不予共享


class Grade(StrEnum):
    """The Data Security Law's classification (数据分级): more approval the higher it goes."""

    general = "general"  # 一般数据
    important = "important"  # 重要数据
    core = "core"  # 核心数据


class SharingMethod(StrEnum):
    api = "api"  # 接口
    table = "table"  # 库表
    file = "file"  # 文件


class UpdateCycle(StrEnum):
    real_time = "real_time"  # 实时
    daily = "daily"  # 每日
    weekly = "weekly"  # 每周
    monthly = "monthly"  # 每月
    quarterly = "quarterly"  # 每季度
    yearly = "yearly"  # 每年
    irregular = "irregular"  # 不定期


class OpenAttribute(StrEnum):
    """开放属性: whether the dataset is opened to the public (beside its sharing class)."""

    not_open = "not_open"  # 不予开放
    conditional = "conditional"  # 有条件开放
    unconditional = "unconditional"  # 无条件开放


class DatasetStatus(StrEnum):
    published = "published"  # in the catalog: requests may name it
    draft = "draft"  # from an approved demand, until its owner describes and publishes it


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    sharing_class: Mapped[str] = mapped_column(String(20), index=True)
    # [{"name": "id_number", "label": "公民身份号码", "personal": true, "sensitive": false}, ...]
    # (rows written before the flags have no `personal`/`sensitive` keys: read them as false)
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    grade: Mapped[str] = mapped_column(String(10), default=Grade.general)
    resource_code: Mapped[str | None] = mapped_column(String(60))
    sharing_conditions: Mapped[str | None] = mapped_column(Text)
    sharing_method: Mapped[str | None] = mapped_column(String(10))
    update_cycle: Mapped[str | None] = mapped_column(String(20))
    open_attribute: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default=DatasetStatus.published)

    def personal_fields(self, names: Iterable[str]) -> list[str]:
        """Those of `names` marked personal (or sensitive), in the dataset's order: granting
        them needs a reason (最小必要, minimisation)."""
        wanted = set(names)
        return [
            f["name"]
            for f in self.fields
            if f["name"] in wanted and (f.get("personal") or f.get("sensitive"))
        ]

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CatalogVersion(VersionCounter, Base):
    """The version of the catalog's datasets (core/db.VersionCounter)."""

    __tablename__ = "catalog_version"
