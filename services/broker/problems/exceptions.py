from broker.kit.problems import Conflict, InvalidField, NotFound, Problem, Worded


class ProblemNotFound(Worded, NotFound):
    # 404 also for reports the caller has no part in: no existence oracle
    wording = ("no problem report '{}' visible to you", "未找到问题反映“{}”，或贵单位无权查看")
    member = "problem_id"


class NoProvincialBureau(Problem):
    status = 503
    slug = "no-provincial-bureau"
    title = "No provincial data bureau in the directory"
    title_zh = "目录中没有省政务服务数据管理局"


class NotTheAnsweringBureau(Problem):
    status = 403
    slug = "not-the-answering-bureau"
    title = "Only the provincial data bureau answers a problem report"
    title_zh = "问题反映由省政务服务数据管理局答复"


class ProblemAlreadyAnswered(Conflict):
    slug = "problem-already-answered"
    title = "The problem report is already answered"
    title_zh = "该问题反映已答复"


class InvalidConcern(InvalidField):
    """A body or request named that the reporter may not name: 422 naming the field."""

    title_zh = "涉及的单位或申请不符合要求"
