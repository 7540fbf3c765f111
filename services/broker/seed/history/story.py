"""One request's story: filed at a moment, routed as filing would route it, and what became of
it by the end of the history."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from broker.routing.model import NoIndependentApprover, RoutingRequest
from broker.routing.plan import plan_route
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
_RANK = {"province": 0, "city": 1, "county": 2, "town": 3}


def story(h: History, created: datetime, rows: Rows) -> None:
    """One request filed at `created` and what became of it by `h.until`."""
    rng = h.rng
    requester = h.bodies[rng.choice(h.requesters)]
    dataset = rng.choice(h.datasets)
    owner = h.bodies[dataset.owner_id]
    if owner.id == requester.id:
        h.counts["own dataset, not filed"] += 1
        return
    upward = _RANK[owner.level] < _RANK[requester.level]
    kind = "return" if upward and rng.random() < 0.3 else "share"
    legal = rng.random() < (0.6 if dataset.sharing_class == "not_shareable" else 0.2)
    view = h.views(created)
    try:
        plan = plan_route(
            RoutingRequest(kind, requester.id, owner.id, dataset.sharing_class, legal),
            view,
            h.policy,
        )
    except NoIndependentApprover:
        plan = None
    if plan is None or plan.outcome == "refuse":
        h.counts["refused at filing"] += 1  # refused: nothing is written
        return
    r = RequestFacts(
        time_id("req", created, rng),
        kind,
        requester,
        dataset,
        f"{rng.getrandbits(128):032x}",
        created,
    )
    wanted = rng.sample(dataset.fields, rng.randint(1, len(dataset.fields)))
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
    finish(h, r, rows, status, decided_at, decision_ids, txn, wanted, legal)
    rows.add(
        "requests",
        r.id,
        kind,
        requester.id,
        dataset.id,
        owner.id,
        json.dumps(wanted),
        rng.choice(_PURPOSES),
        "《政务数据共享管理办法》" if legal else None,
        created,
        created + timedelta(days=365),
        requester.division_code if kind == "return" else None,
        json.dumps(wanted),
        created,
        created + timedelta(days=365),
        status,
        plan.rule,
        current,
        None,
        r.trace,
        f"{rng.getrandbits(64):016x}",
        None,
        hashlib.sha256(r.id.encode()).hexdigest(),
        created,
        decided_at if status != "pending" else created,
        decided_at if status != "pending" else None,
    )
    write_events(r, rows, rng)
    h.counts[status] += 1
