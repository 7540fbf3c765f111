from broker.kit.problems import Conflict, NotFound, Problem


class AppointmentNotFound(NotFound):
    def __init__(self, appointment_id: str) -> None:
        super().__init__(f"no appointment '{appointment_id}'", appointment_id=appointment_id)


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


class NoActiveCDO(Problem):
    status = 422
    slug = "no-active-cdo"
    title = "The body has no active CDO"
    title_zh = "该单位无在任首席数据官"


class NotYourCDO(Problem):
    status = 403
    slug = "not-your-cdo"
    title = "Not your CDO"
    title_zh = "非本单位首席数据官"


class OutsideJurisdiction(Problem):
    """An admin write about a body outside the caller's jurisdiction (directory/jurisdiction.py)."""

    status = 403
    slug = "outside-jurisdiction"
    title = "Outside your jurisdiction"
    title_zh = "超出管辖范围"


class DelegationNotFound(NotFound):
    def __init__(self, delegation_id: str) -> None:
        super().__init__(f"no delegation '{delegation_id}'", delegation_id=delegation_id)


class DelegationEnded(Conflict):
    slug = "delegation-ended"
    title = "The delegation has already ended"
    title_zh = "授权委托已结束"


class SelfDelegation(Problem):
    status = 403
    slug = "self-delegation"
    title = "A bureau may not make itself a body's delegate"
    title_zh = "不得委托给自己"
