"""The request state machine and its arithmetic, as pure functions over plain values.

No session, no clock: the service passes `now` in. Property tests live beside these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class RequestStatus(StrEnum):
    pending = "pending"  # routed; a step awaits its CDO(s)
    approved = "approved"
    rejected = "rejected"
    cancelled = "cancelled"
    expired = "expired"  # the period asked for ended before the route was decided
    vetoed = "vetoed"  # an IT project's CDO vetoed it (一票否决)


class StepStatus(StrEnum):
    waiting = "waiting"  # an earlier step is not decided yet
    pending = "pending"
    on_hold = "on_hold"  # a CDO asked the requester for clarification; the SLA clock pauses
    approved = "approved"
    rejected = "rejected"
    cancelled = "cancelled"


FINAL_STATUSES = frozenset(
    {
        RequestStatus.approved,
        RequestStatus.rejected,
        RequestStatus.cancelled,
        RequestStatus.expired,
        RequestStatus.vetoed,
    }
)

_TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.pending: frozenset(FINAL_STATUSES),
    **{final: frozenset() for final in FINAL_STATUSES},
}


def can_transition(current: RequestStatus, target: RequestStatus) -> bool:
    return target in _TRANSITIONS[current]


class StepOutcome(StrEnum):
    open = "open"
    approved = "approved"
    rejected = "rejected"


def step_outcome(*, required: int, approvals: int, rejections: int, approvers: int) -> StepOutcome:
    """N of a set: approved once `required` approve; rejected once that can no longer happen."""
    if approvals >= required:
        return StepOutcome.approved
    undecided = approvers - approvals - rejections
    if approvals + undecided < required:
        return StepOutcome.rejected
    return StepOutcome.open


# The decisions each kind of request takes besides `approve`: an IT project is vetoed, not
# rejected (the CDO's 一票否决); every other kind is rejected.
def refusal_for(kind: str) -> str:
    return "veto" if kind == "it_project" else "reject"


def sla_clock_seconds(
    *, started_at: datetime, now: datetime, held_seconds: int, on_hold_since: datetime | None
) -> int:
    """How long the step's clock has run: wall time since it started minus every hold."""
    paused_until_now = (now - on_hold_since).total_seconds() if on_hold_since else 0.0
    return max(0, int((now - started_at).total_seconds() - held_seconds - paused_until_now))


@dataclass(frozen=True)
class Grantable:
    fields: tuple[str, ...]
    start: datetime
    end: datetime


class Widening(ValueError):
    def __init__(self, field: str, message: str, zh: str) -> None:
        super().__init__(message)
        self.field = field
        self.zh = zh


def narrow(
    current: Grantable,
    *,
    fields: Sequence[str] | None,
    start: datetime | None,
    end: datetime | None,
) -> Grantable:
    """An approver may grant less than asked (fewer fields, a shorter period), never more."""
    new_fields = current.fields
    if fields is not None:
        extra = sorted(set(fields) - set(current.fields))
        if extra:
            raise Widening(
                "fields",
                f"fields: cannot add {', '.join(extra)}; approve fewer only",
                f"fields: 不能增加数据项 {'、'.join(extra)}；部分同意只能减少数据项",
            )
        if not fields:
            raise Widening(
                "fields",
                "fields: an approval grants at least one field",
                "fields: 同意须至少授予一个数据项",
            )
        new_fields = tuple(f for f in current.fields if f in set(fields))
    new_start = start or current.start
    new_end = end or current.end
    if new_start < current.start:
        raise Widening(
            "period.start",
            "period.start: cannot start earlier than already granted",
            "period.start: 使用期限的开始不能早于已授予的",
        )
    if new_end > current.end:
        raise Widening(
            "period.end",
            "period.end: cannot end later than already granted",
            "period.end: 使用期限的结束不能晚于已授予的",
        )
    if new_end <= new_start:
        raise Widening(
            "period", "period: the narrowed period is empty", "period: 缩小后的使用期限为空"
        )
    return Grantable(new_fields, new_start, new_end)
