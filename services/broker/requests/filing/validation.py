"""What a filing must satisfy before it is routed, against the catalog and the directory (pure)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import cast

from broker.requests.exceptions import InvalidRequest
from broker.requests.filing.schemas import PeriodIn, RequestIn
from broker.requests.parties import DatasetRow, OrganisationRow
from core.models.catalog import DatasetStatus
from core.models.directory import Level, OrgKind

MAX_PERIOD = timedelta(days=5 * 366)  # a grant longer than five years is a sign of a typo
_LEVEL_RANK = {Level.province: 0, Level.city: 1, Level.county: 2, Level.town: 3}


# Without a period of its own, an IT project's decision is due within a year of its filing
# (after which it expires, as a data request whose period ended does).
PROJECT_PERIOD = timedelta(days=366)


def fingerprint(body: RequestIn) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def division_contains(outer: str, inner: str) -> bool:
    """GB/T 2260: 440000 contains 4401xx, 440100 contains 44010x; towns extend a county's code."""
    prefix = outer
    while len(prefix) > 2 and prefix.endswith("00") and len(prefix) <= 6:
        prefix = prefix[:-2]
    return inner.startswith(prefix)


def validate_against_catalog(
    body: RequestIn,
    dataset: DatasetRow,
    requester: OrganisationRow,
    owner: OrganisationRow,
    now: datetime,
) -> None:
    if dataset.status != DatasetStatus.published:
        raise InvalidRequest(
            f"dataset_id: '{dataset.id}' is a draft entry, not yet published by its owner",
            detail_zh=f"dataset_id: 数据资源“{dataset.name}”是目录草稿，提供单位尚未发布",
            field="dataset_id",
        )
    known = {f["name"] for f in dataset.fields}
    unknown = sorted(set(body.fields or ()) - known)
    if unknown:
        raise InvalidRequest(
            f"fields: '{dataset.id}' has no field(s) {', '.join(unknown)}",
            detail_zh=f"fields: 数据资源“{dataset.name}”没有数据项 {'、'.join(unknown)}",
            field="fields",
            unknown_fields=unknown,
        )
    assert body.period is not None  # the schema requires it for a share and a return
    _check_period(body.period, now)
    if owner.id == requester.id:
        raise InvalidRequest(
            "dataset_id: this dataset is your own",
            detail_zh="dataset_id: 这是本单位自己的数据资源，无需申请",
            field="dataset_id",
        )
    if body.kind == "return":
        if _LEVEL_RANK[Level(owner.level)] >= _LEVEL_RANK[Level(requester.level)]:
            raise InvalidRequest(
                "kind: a return is for data held above your level; file a share instead",
                detail_zh="kind: 数据回流只适用于上级单位的数据；"
                "同级或下级单位的数据请提交数据共享申请",
                field="kind",
            )
        assert body.jurisdiction is not None  # the schema requires it for a return
        if not division_contains(requester.division_code, body.jurisdiction):
            raise InvalidRequest(
                f"jurisdiction: {body.jurisdiction} is outside yours ({requester.division_code})",
                detail_zh=f"jurisdiction: 行政区划 {body.jurisdiction} 不在本单位的管辖范围"
                f"（{requester.division_code}）内",
                field="jurisdiction",
            )


def validate_other_party(
    body: RequestIn, requester: OrganisationRow, provider: OrganisationRow | None, now: datetime
) -> OrganisationRow:
    """A demand's presumed provider (a department or bureau, not the requester) or an IT
    project's body (the requester itself); the period, where one is given."""
    if body.kind == "demand":
        if provider is None or provider.kind == OrgKind.government:
            raise InvalidRequest(
                f"presumed_provider_id: '{body.presumed_provider_id}' is not a department or "
                "data bureau",
                detail_zh=f"presumed_provider_id: “{body.presumed_provider_id}”不是部门或"
                "政务服务数据管理局",
                field="presumed_provider_id",
            )
        if provider.id == requester.id:
            raise InvalidRequest(
                "presumed_provider_id: a demand asks another body; catalog your own data",
                detail_zh="presumed_provider_id: 数据需求应向其他单位提出；"
                "本单位的数据请编入政务数据资源目录",
                field="presumed_provider_id",
            )
    if body.period is not None:
        _check_period(body.period, now)
    return requester if body.kind == "it_project" else cast(OrganisationRow, provider)


def _check_period(period: PeriodIn, now: datetime) -> None:
    if period.end <= now:
        raise InvalidRequest(
            "period.end: the period wanted has already ended",
            detail_zh="period.end: 使用期限的结束日期已过",
            field="period.end",
        )
    if period.end - period.start > MAX_PERIOD:
        raise InvalidRequest(
            "period: at most five years may be asked for",
            detail_zh="period: 使用期限最长五年",
            field="period",
        )
