from broker.kit.problems import Conflict, NotFound, Problem


class RequestNotFound(NotFound):
    def __init__(self, request_id: str) -> None:
        # 404 also for requests that exist but do not involve the caller: no existence oracle
        super().__init__(f"no request '{request_id}' visible to you", request_id=request_id)


class InvalidRequest(Problem):
    status = 422
    slug = "invalid-request"
    title = "Invalid request"
    title_zh = "申请内容有误"


class NotShareable(Problem):
    status = 422
    slug = "not-shareable"
    title = "The dataset is not shareable"
    title_zh = "该数据资源不予共享"


class IdempotencyConflict(Conflict):
    slug = "idempotency-key-reused"
    title = "Idempotency-Key reused with another body"
    title_zh = "Idempotency-Key 已用于另一申请"


class DecisionConflict(Conflict):
    slug = "decision-conflict"
    title = "A different decision was already made"
    title_zh = "已作出不同的审批决定"


class RequestClosed(Conflict):
    slug = "request-closed"
    title = "The request is no longer open"
    title_zh = "该申请已办结"


class NotTheApprover(Problem):
    status = 403
    slug = "not-the-approver"
    title = "Not the approver of the current step"
    title_zh = "非当前审批环节的审批人"


class NotTheRequester(Problem):
    status = 403
    slug = "not-the-requester"
    title = "Only the requester may do this"
    title_zh = "仅申请单位可执行此操作"


class InvalidDecision(Problem):
    status = 422
    slug = "invalid-decision"
    title = "Invalid decision"
    title_zh = "审批决定无效"


class NoIndependentApprover(Problem):
    """Separation of duties: nobody but the requester itself could decide a step."""

    status = 422
    slug = "no-independent-approver"
    title = "Nobody but the requester could decide this request"
    title_zh = "无独立审批方"


class RequesterCannotDecide(Problem):
    status = 403
    slug = "requester-cannot-decide"
    title = "The requester never decides its own request"
    title_zh = "申请方不得审批自己的申请"


class CDONotInOffice(Problem):
    status = 403
    slug = "cdo-not-in-office"
    title = "The body's CDO appointment has ended"
    title_zh = "首席数据官不在任"


class MinimisationReasonRequired(Problem):
    """Granting personal information needs a reason (最小必要原则, PIPL art. 6)."""

    status = 422
    slug = "minimisation-reason-required"
    title = "Granting personal fields needs a reason"
    title_zh = "授予个人信息须说明理由"


class AppealConflict(Conflict):
    slug = "appeal-conflict"
    title = "The request was already appealed"
    title_zh = "已申请过协调"


class NotAppealable(Conflict):
    slug = "not-appealable"
    title = "Only a rejection or a narrowed approval may be appealed"
    title_zh = "不可申请协调"


class AppealTooLate(Conflict):
    slug = "appeal-deadline-passed"
    title = "The deadline for an appeal has passed"
    title_zh = "申请协调期限已过"


class AppealClosed(Conflict):
    slug = "appeal-closed"
    title = "The appeal was already decided"
    title_zh = "申请协调已办结"


class NotTheAppellant(NotTheRequester):
    title = "Only the requesting body may appeal"
    title_zh = "只有申请单位可以申请协调"


class NotTheCoordinator(Problem):
    status = 403
    slug = "not-the-coordinator"
    title = "Another CDO coordinates this appeal"
    title_zh = "非协调单位"


class RefuserCannotCoordinate(Problem):
    status = 403
    slug = "refuser-cannot-coordinate"
    title = "The body that refused never decides the appeal"
    title_zh = "作出原决定的单位不得协调"
