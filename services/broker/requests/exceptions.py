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
