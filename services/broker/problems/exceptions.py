from broker.kit.problems import Conflict, NotFound, Problem


class ProblemNotFound(NotFound):
    def __init__(self, problem_id: str) -> None:
        # 404 also for reports the caller neither filed nor must answer: no existence oracle
        super().__init__(f"未找到问题反映 '{problem_id}'（或无权查看）", problem_id=problem_id)


class NoProvincialBureau(Problem):
    status = 503
    slug = "no-provincial-bureau"
    title = "No provincial data bureau in the directory"


class NotTheAnsweringBureau(Problem):
    status = 403
    slug = "not-the-answering-bureau"
    title = "Only the provincial data bureau answers a problem report"


class ProblemAlreadyAnswered(Conflict):
    slug = "problem-already-answered"
    title = "The problem report is already answered"
