"""One request's story: filed at a moment, routed as filing would route it, and what became of
it by the end of the history."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime, timedelta

from broker.routing.model import NoIndependentApprover
from broker.routing.plan import plan_route
from broker.seed.history.kinds import Ask, ask
from broker.seed.history.outcomes import finish, write_events
from broker.seed.history.rows import History, RequestFacts, Rows, time_id, working_seconds
from broker.seed.history.steps import tell_step

_PURPOSES = (
    "核验申请人身份与资格",
    "办理社会保障待遇",
    "开展执法检查",
    "编制统计分析报告",
    "审核补贴发放",
    "办理不动产登记",
)


def story(h: History, created: datetime, rows: Rows) -> None:
    """One request filed at `created` and what became of it by `h.until`."""
    rng = h.rng
    asked = ask(h, rng)
    if asked is None:
        return
    view = h.views(created)
    try:
        plan = plan_route(asked.routing(), view, h.policy)
    except NoIndependentApprover:
        plan = None
    if plan is None or plan.outcome == "refuse":
        h.counts["refused at filing"] += 1  # refused: nothing is written
        return
    r = RequestFacts(
        time_id("req", created, rng),
        asked.kind,
        asked.requester,
        asked.provider.id,
        asked.dataset,
        asked.wanted(rng),
        f"{rng.getrandbits(128):032x}",
        created,
        asked.dataset.id if asked.dataset else None,
        asked.description,
    )
    r.event(created, "request", "submitted", r.id, to=None)
    if plan.steps:
        r.event(created, "request", "routed", r.id, rule=plan.rule)
    status, current, decided_at, decision_ids = "approved", None, created, []
    txn: list[int] = []  # the chain the deciding transaction appends to
    t = created
    step_ids = [time_id("stp", created, rng) for _ in plan.steps]
    approvers = [
        [
            [time_id("apv", created, rng), a.organisation_id, a.acting_for, None, created, None]
            for a in planned.approvers
        ]
        for planned in plan.steps
    ]
    for planned, step_id, current_approvers in zip(plan.steps, step_ids, approvers, strict=True):
        outcome = tell_step(
            h,
            r,
            planned.index,
            planned.required,
            planned.sla_seconds,
            step_id,
            current_approvers,
            t,
            rows,
            view,
        )
        rows.add(
            "request_steps",
            step_id,
            r.id,
            planned.index,
            planned.role,
            planned.required,
            planned.sla_seconds,
            planned.sla_working_days,
            outcome.status,
            outcome.started,
            outcome.due,
            None,
            outcome.held,
            working_seconds(outcome.held),
            None,
            None,
            outcome.escalations,
            outcome.decided_at,
        )
        if outcome.status != "approved":
            status = {"pending": "pending", "waiting": "pending"}.get(
                outcome.status, outcome.status
            )
            if status == "rejected" and asked.kind == "it_project":
                status = "vetoed"  # 一票否决: the step is rejected, the project vetoed
            current = planned.index if status == "pending" else None
            decided_at = outcome.decided_at or t
            txn = outcome.txn
            for later, later_id in zip(plan.steps, step_ids, strict=True):
                if later.index > planned.index:
                    rows.add(
                        "request_steps",
                        later_id,
                        r.id,
                        later.index,
                        later.role,
                        later.required,
                        later.sla_seconds,
                        later.sla_working_days,
                        "waiting" if status == "pending" else "cancelled",
                        None,
                        None,
                        None,
                        0,
                        0,
                        None,
                        None,
                        0,
                        None,
                    )
            break
        decision_ids += outcome.decisions
        t = decided_at = outcome.decided_at or t
        txn = outcome.txn
    for step_approvers, step_id in zip(approvers, step_ids, strict=True):
        for apv, org, acting_for, escalated_from, added_at, replaced_at in step_approvers:
            rows.add(
                "step_approvers",
                apv,
                step_id,
                r.id,
                org,
                acting_for,
                escalated_from,
                added_at,
                replaced_at,
            )
    finish(h, r, rows, status, decided_at, decision_ids, txn)
    _request_row(rows, r, asked, plan.rule, status, current, decided_at, rng)
    write_events(r, rows, rng)
    h.counts[status] += 1


def _request_row(
    rows: Rows,
    r: RequestFacts,
    asked: Ask,
    rule: str,
    status: str,
    current: int | None,
    decided_at: datetime,
    rng: random.Random,
) -> None:
    created, pending = r.created, status == "pending"
    rows.put(
        "requests",
        id=r.id,
        kind=r.kind,
        requester_id=r.requester.id,
        dataset_id=r.dataset_id,
        provider_id=r.provider_id,
        description=asked.description,
        project=json.dumps(asked.project, ensure_ascii=False) if asked.project else None,
        fields=json.dumps(r.wanted),
        purpose=rng.choice(_PURPOSES),
        legal_basis="《政务数据共享管理办法》" if asked.legal else None,
        period_start=created,
        period_end=created + timedelta(days=365),
        jurisdiction=r.requester.division_code if r.kind == "return" else None,
        granted_fields=json.dumps(r.wanted),
        granted_start=created,
        granted_end=created + timedelta(days=365),
        status=status,
        routing_rule=rule,
        current_step=current,
        trace_id=r.trace,
        span_id=f"{rng.getrandbits(64):016x}",
        fingerprint=hashlib.sha256(r.id.encode()).hexdigest(),
        created_at=created,
        updated_at=created if pending else decided_at,
        decided_at=None if pending else decided_at,
    )
