"""What the reports API answers. The CSV export has exactly the columns of `CdoEvaluationRow`."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from core.models.directory import Level


class GroupBy(StrEnum):
    cdo = "cdo"
    body = "body"


class CdoEvaluationRow(BaseModel):
    organisation_id: str
    organisation_name: str
    level: Level
    appointment_id: str | None = Field(
        description="the CDO appointment; null in per-body rows, and for a body's activity while "
        "it had no CDO"
    )
    person_name: str | None
    title: str | None
    requests_routed: int
    decided: int
    decided_by_delegate: int
    approved: int
    rejected: int
    decision_seconds_median: int | None = Field(description="nearest-rank; null without decisions")
    decision_seconds_p90: int | None = Field(description="nearest-rank; null without decisions")
    decision_working_seconds_median: int | None = Field(
        default=None,
        description="in working time (office hours of working days, holds excluded); "
        "nearest-rank; null without decisions",
    )
    decision_working_seconds_p90: int | None = Field(
        default=None, description="in working time; nearest-rank; null without decisions"
    )
    sla_breaches: int
    escalations_caused: int
    escalations_received: int
    clarifications_asked: int
    grants_revoked_after_approval: int
    problems_filed: int = Field(description="problem reports (问题反映) the body filed")
    problems_naming: int = Field(description="problem reports filed that name the body")
    problems_answered: int = Field(description="problem reports the body answered")
    appeals_received: int = Field(description="appeals (申请协调) that came to it to coordinate")
    appeals_upheld: int = Field(description="appeals it decided by upholding the refusal")
    appeals_overturned: int = Field(description="appeals it decided by overturning the refusal")
    problem_answer_seconds_median: int | None = Field(
        description="nearest-rank median of the seconds from filing to answer of those answered"
    )


class CdoEvaluationReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    level: Level | None
    group_by: GroupBy
    rows: list[CdoEvaluationRow]


CSV_COLUMNS = tuple(CdoEvaluationRow.model_fields)
# The CSV's header row as the bureaus read it (GLOSSARY.md's words); `?lang=en` or an
# Accept-Language preferring English gives the column names instead.
CSV_HEADERS_ZH: dict[str, str] = {
    "organisation_id": "单位代码",
    "organisation_name": "单位名称",
    "level": "层级",
    "appointment_id": "任命编号",
    "person_name": "首席数据官",
    "title": "职务",
    "requests_routed": "承办申请数",
    "decided": "审批数",
    "decided_by_delegate": "受托人代为审批数",
    "approved": "同意数",
    "rejected": "不同意数",
    "decision_seconds_median": "审批用时中位数（秒）",
    "decision_seconds_p90": "审批用时90分位（秒）",
    "decision_working_seconds_median": "审批工作时间中位数（秒）",
    "decision_working_seconds_p90": "审批工作时间90分位（秒）",
    "sla_breaches": "超期环节数",
    "escalations_caused": "超期提级次数",
    "escalations_received": "受理提级次数",
    "clarifications_asked": "要求补充说明次数",
    "grants_revoked_after_approval": "同意后被撤销的授权数",
    "problems_filed": "反映问题数",
    "problems_naming": "被反映问题数",
    "problems_answered": "答复问题反映数",
    "appeals_received": "受理申请协调数",
    "appeals_upheld": "维持原决定数",
    "appeals_overturned": "改变原决定数",
    "problem_answer_seconds_median": "问题反映答复用时中位数（秒）",
}
