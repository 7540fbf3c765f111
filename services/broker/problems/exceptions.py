from broker.kit.problems import Conflict, InvalidField, NotFound, Problem


class ProblemNotFound(NotFound):
    def __init__(self, problem_id: str) -> None:
        # 404 also for reports the caller has no part in: no existence oracle
        super().__init__(
            f"no problem report '{problem_id}' visible to you",
            detail_zh=f"未找到问题反映“{problem_id}”，或贵单位无权查看",
            problem_id=problem_id,
        )


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
