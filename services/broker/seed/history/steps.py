"""A step from its start to its decision: clarification, escalation, the decisions and their
audit rows, as `requests/decisions.py` and `requests/sla.py` write them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from broker.requests.lifecycle import refusal_for
from broker.routing.model import DirectoryView
from broker.routing.plan import escalation_target
from broker.seed.history.rows import DAY, History, RequestFacts, Rows, time_id, working_seconds


@dataclass
class StepOutcome:
    status: str
    started: datetime | None
    due: datetime | None
    held: int = 0
    escalations: int = 0
    decided_at: datetime | None = None
    decisions: list[str] = field(default_factory=list)
    txn: list[int] = field(default_factory=list)


def tell_step(
    h: History,
    r: RequestFacts,
    index: int,
    required: int,
    sla: int,
    step_id: str,
    approvers: list[list[Any]],
    started: datetime,
    rows: Rows,
    view: DirectoryView,
) -> StepOutcome:
    """A step from its start to its decision, or as it stands at `h.until`."""
    rng = h.rng
    due = started + timedelta(seconds=sla * 1.4)  # working days, weekends in between
    step = StepOutcome("pending", started, due)
    for _, org, *_rest in approvers:
        r.event(
            started,
            "approval",
            "requested",
            org,
            to=org,
            step=index,
            approver_id=org,
            due_at=due.isoformat(),
        )
    took = timedelta(seconds=min(int(rng.lognormvariate(10.5, 1.0)), 6 * DAY))
    if rng.random() < 0.06:
        asked = started + timedelta(seconds=rng.randint(1800, DAY))
        answered = asked + timedelta(seconds=rng.randint(3600, 3 * DAY))
        if answered < h.until:
            step.held = int((answered - asked).total_seconds())
            rows.add(
                "clarifications",
                time_id("clr", asked, rng),
                r.id,
                step_id,
                approvers[0][1],
                "请说明使用场景及字段必要性",
                asked,
                "用于窗口办件核验，仅使用所列字段",
                answered,
            )
            r.event(asked, "request", "clarification_requested", r.id, step=index)
            r.event(answered, "request", "clarification_answered", r.id, step=index)
            took += timedelta(seconds=step.held)
    if rng.random() < 0.07 and due < h.until:
        lapsed = approvers[0]
        target = escalation_target(lapsed[1], view, h.policy.escalation, r.requester.id)
        if target is not None:
            appointment = h.bodies[lapsed[1]].cdo_at(due)
            rows.add(
                "escalations",
                time_id("esc", due, rng),
                r.id,
                step_id,
                1,
                lapsed[1],
                appointment[0] if appointment else None,
                target,
                due,
                due,
            )
            lapsed[5] = due
            approvers.append([time_id("apv", due, rng), target, None, lapsed[1], due, None])
            step.escalations = 1
            step.due = due + timedelta(seconds=sla * 1.4)
            r.event(due, "request", "escalated", r.id, step=index, to=target)
            r.event(due, "approval", "escalated", target, to=target, step=index)
            took = due - started + timedelta(seconds=rng.randint(3600, 2 * DAY))
    decided = started + took
    if decided >= h.until:
        return step  # still pending when the history ends
    if rng.random() < 0.02:
        step.status, step.decided_at = "cancelled", decided
        return step
    current = [a for a in approvers if a[5] is None][:required]
    reject = rng.random() < 0.1
    for n, (_, org, acting_for, *_rest) in enumerate(current):
        at = decided + timedelta(seconds=n * 600)
        decision_id = time_id("dec", at, rng)
        verdict = refusal_for(r.kind) if reject and n == 0 else "approve"
        comment = _comment(r, verdict)
        cdo = h.bodies[org].cdo_at(at)
        clock = int((at - started).total_seconds()) - step.held
        rows.add(
            "decisions",
            decision_id,
            r.id,
            step_id,
            org,
            cdo[0] if cdo else None,
            None,
            cdo[1] if cdo else org,
            acting_for,
            None,
            None,
            org,
            verdict,
            comment,
            None,
            clock,
            working_seconds(clock),
            None,
            at,
        )
        h.chains.append(
            rows,
            step.txn,
            at,
            org,
            "decision.recorded",
            r.id,
            decision_id=decision_id,
            step=index,
            decision=verdict,
            on_behalf_of=org,
            decided_by=cdo[1] if cdo else org,
            decided_by_person=None,
            reason=comment if verdict != "approve" else None,
        )
        r.event(at, "request", "step_decided", r.id, step=index, decision=verdict)
        step.decisions.append(decision_id)
        step.decided_at = at
        if verdict != "approve":
            step.status = "rejected"
            return step
    step.status = "approved"
    return step


def _comment(r: RequestFacts, verdict: str) -> str | None:
    """A refusal's reason; an approval's reason where it grants personal fields (最小必要)."""
    if verdict == "reject":
        return "与申请用途不符"
    if verdict == "veto":
        return "项目与本单位信息化建设规划重复，一票否决"
    if r.dataset is not None and r.dataset.personal.intersection(r.wanted):
        return "所列个人信息为办理该事项所必需，按最小必要原则使用"
    return None
