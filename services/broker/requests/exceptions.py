"""The requests' problems, in both languages (kit/problems.py): where the detail follows from
the arguments the type builds it; elsewhere the raise site writes both."""

from broker.kit.problems import Conflict, NotFound, Problem, Worded


class RequestNotFound(Worded, NotFound):
    # 404 also for requests that exist but do not involve the caller: no existence oracle
    wording = ("no request '{}' visible to you", "未找到申请“{}”，或您无权查看")
    member = "request_id"


class InvalidRequest(Problem):
    status = 422
    slug = "invalid-request"
    title = "Invalid request"
    title_zh = "申请内容有误"
    said_zh = "申请内容不符合要求"


class NotShareable(Problem):
    status = 422
    slug = "not-shareable"
    title = "The dataset is not shareable"
    title_zh = "该数据资源不予共享"
    said_zh = "该数据资源不予共享；有法律、法规依据的，请填写共享依据后提交"
    detail_on_pages = False

    def __init__(self, reason: str | None) -> None:
        # The routing policy's reason, as its operator wrote it (in both languages).
        super().__init__(
            reason or "refused by the routing policy",
            detail_zh=reason or "审批流程规则不予受理",
            field="legal_basis",
        )


class IdempotencyConflict(Worded, Conflict):
    slug = "idempotency-key-reused"
    title = "Idempotency-Key reused with another body"
    title_zh = "Idempotency-Key 已用于另一申请"
    wording = (
        "this Idempotency-Key was used for a different request body",
        "该 Idempotency-Key 已用于内容不同的另一申请（{}）",
    )
    member = "request_id"


class DecisionConflict(Conflict):
    slug = "decision-conflict"
    title = "A different decision was already made"
    title_zh = "已作出不同的审批决定"
    said_zh = "本单位已提交了不同的审批意见"
    detail_on_pages = False


class RequestClosed(Conflict):
    slug = "request-closed"
    title = "The request is no longer open"
    title_zh = "该申请已办结"
    said_zh = "该申请当前的状态下不能办理此事项（已办结，或无待答复的补充说明）"
    detail_on_pages = False


class NotTheApprover(Problem):
    status = 403
    slug = "not-the-approver"
    title = "Not the approver of the current step"
    title_zh = "非当前审批环节的审批人"
    said_zh = "您所在单位不是当前审批环节的审批单位"
    detail_on_pages = False


class NotTheRequester(Problem):
    status = 403
    slug = "not-the-requester"
    title = "Only the requester may do this"
    title_zh = "仅申请单位可执行此操作"
    said_zh = "只有申请单位可以办理此事项"
    detail_on_pages = False


class InvalidDecision(Problem):
    status = 422
    slug = "invalid-decision"
    title = "Invalid decision"
    title_zh = "审批决定无效"
    said_zh = "审批意见不符合规则"


class NoIndependentApprover(Problem):
    """Separation of duties: nobody but the requester itself could decide a step."""

    status = 422
    slug = "no-independent-approver"
    title = "Nobody but the requester could decide this request"
    title_zh = "无独立审批方"
    said_zh = "除申请单位外无独立审批单位"


class RequesterCannotDecide(Problem):
    status = 403
    slug = "requester-cannot-decide"
    title = "The requester never decides its own request"
    title_zh = "申请方不得审批自己的申请"
    said_zh = "申请单位不得审批自己的申请"


class CDONotInOffice(Problem):
    status = 403
    slug = "cdo-not-in-office"
    title = "The body's CDO appointment has ended"
    title_zh = "首席数据官不在任"
    said_zh = "该单位首席数据官已不在任，不能审批；待办已转由数据管理局代为审批"
    detail_on_pages = False


class MinimisationReasonRequired(Problem):
    """Granting personal information needs a reason (最小必要原则, PIPL art. 6)."""

    status = 422
    slug = "minimisation-reason-required"
    title = "Granting personal fields needs a reason"
    title_zh = "授予个人信息须说明理由"
    said_zh = "须说明授予个人信息的理由（最小必要原则）"


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
    said_zh = "只有提出申请的单位可以对审批决定申请协调"


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
