from broker.kit.problems import Conflict, NotFound, Problem


class RequestNotFound(NotFound):
    def __init__(self, request_id: str) -> None:
        # 404 also for requests that exist but do not involve the caller: no existence oracle
        super().__init__(f"no request '{request_id}' visible to you", request_id=request_id)


class InvalidRequest(Problem):
    status = 422
    slug = "invalid-request"
    title = "Invalid request"


class NotShareable(Problem):
    status = 422
    slug = "not-shareable"
    title = "The dataset is not shareable"


class IdempotencyConflict(Conflict):
    slug = "idempotency-key-reused"
    title = "Idempotency-Key reused with another body"


class DecisionConflict(Conflict):
    slug = "decision-conflict"
    title = "A different decision was already made"


class RequestClosed(Conflict):
    slug = "request-closed"
    title = "The request is no longer open"


class NotTheApprover(Problem):
    status = 403
    slug = "not-the-approver"
    title = "Not the approver of the current step"


class NotTheRequester(Problem):
    status = 403
    slug = "not-the-requester"
    title = "Only the requester may do this"


class InvalidDecision(Problem):
    status = 422
    slug = "invalid-decision"
    title = "Invalid decision"


class NoIndependentApprover(Problem):
    """Separation of duties: nobody but the requester itself could decide a step."""

    status = 422
    slug = "no-independent-approver"
    title = "无独立审批方 / Nobody but the requester could decide this request"


class RequesterCannotDecide(Problem):
    status = 403
    slug = "requester-cannot-decide"
    title = "申请方不得审批自己的申请 / The requester never decides its own request"


class CDONotInOffice(Problem):
    status = 403
    slug = "cdo-not-in-office"
    title = "首席数据官不在任 / The body's CDO appointment has ended"


class MinimisationReasonRequired(Problem):
    """Granting personal information needs a reason (最小必要原则, PIPL art. 6)."""

    status = 422
    slug = "minimisation-reason-required"
    title = "Granting personal fields needs a reason"
    title_zh = "授予个人信息须说明理由"
