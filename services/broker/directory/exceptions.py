"""The directory's problems, in both languages (kit/problems.py)."""

from datetime import datetime

from broker.calendar.deadlines import china_time
from broker.kit.problems import Conflict, NotFound, Problem, Worded


class AppointmentNotFound(Worded, NotFound):
    wording = ("no appointment '{}'", "未找到首席数据官任命“{}”")
    member = "appointment_id"


class OrganisationExists(Conflict):
    slug = "organisation-exists"
    title = "Organisation exists"
    title_zh = "单位已存在"


class AppointmentOverlaps(Conflict):
    slug = "appointment-overlaps"
    title = "The body already has a CDO for that period"
    title_zh = "该单位在此期间已有首席数据官"


class InvalidDirectoryChange(Problem):
    status = 422
    slug = "invalid-directory-change"
    title = "Invalid directory change"
    title_zh = "组织机构变更无效"


class WrongFilingBureau(Problem):
    """An appointment filed with another bureau than the rules name (directory/filing.py)."""

    status = 422
    slug = "wrong-filing-bureau"
    title = "Filed with the wrong data bureau"
    title_zh = "备案机关不符"


class NoActiveCDO(Worded, Problem):
    status = 422
    slug = "no-active-cdo"
    title = "The body has no active CDO"
    title_zh = "该单位无在任首席数据官"
    wording = ("'{}' has no active CDO to delegate", "“{}”无在任首席数据官，无从授权委托")
    field = "organisation_id"


class NotYourCDO(Worded, Problem):
    """The value is the field that names the body."""

    status = 403
    slug = "not-your-cdo"
    title = "Not your CDO"
    title_zh = "非本单位首席数据官"
    wording = (
        "{}: only the body's own CDO, or a data bureau whose jurisdiction covers it, "
        "may delegate its decisions",
        "{}: 只有该单位在任的首席数据官，或管辖范围覆盖该单位的"
        "政务服务数据管理局，可以授权委托其审批",
    )
    member = "field"


class OutsideJurisdiction(Problem):
    """An admin write about a body outside the caller's jurisdiction (directory/jurisdiction.py)."""

    status = 403
    slug = "outside-jurisdiction"
    title = "Outside your jurisdiction"
    title_zh = "超出管辖范围"
    said_zh = "该单位不在您的管辖范围内"
    detail_on_pages = False

    def __init__(self, caller_id: str, body_id: str, field: str) -> None:
        super().__init__(
            f"{field}: '{body_id}' is outside the jurisdiction of '{caller_id}'",
            detail_zh=f"{field}: “{body_id}”不在“{caller_id}”的管辖范围内",
            field=field,
            organisation_id=body_id,
        )


class DelegationNotFound(Worded, NotFound):
    wording = ("no delegation '{}'", "未找到授权委托“{}”")
    member = "delegation_id"


class DelegationEnded(Conflict):
    slug = "delegation-ended"
    title = "The delegation has already ended"
    title_zh = "授权委托已结束"
    said_zh = "该授权委托已结束"

    def __init__(self, delegation_id: str, ended_at: datetime) -> None:
        super().__init__(
            f"the delegation ended at {ended_at.isoformat()}",
            detail_zh=f"该授权委托已于{china_time(ended_at)}结束",
            delegation_id=delegation_id,
        )


class SelfDelegation(Problem):
    status = 403
    slug = "self-delegation"
    title = "A bureau may not make itself a body's delegate"
    title_zh = "不得委托给自己"

    def __init__(self, caller_id: str, organisation_id: str) -> None:
        super().__init__(
            f"delegate_org_id: '{caller_id}' may file delegations for '{organisation_id}', but "
            "not to itself; only that body's own CDO may choose it as a delegate",
            detail_zh=f"delegate_org_id: “{caller_id}”可以为“{organisation_id}”办理授权委托，"
            "但不得委托给自己；只有该单位在任的首席数据官可以选择其为受托人",
            field="delegate_org_id",
        )
