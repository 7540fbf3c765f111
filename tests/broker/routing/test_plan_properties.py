"""Properties of plan_route and escalation_target over random directories, requests and policies."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from broker.routing.model import (
    DATASET_KINDS,
    GRADES,
    OWN_CDO_KINDS,
    REQUEST_KINDS,
    SHARING_CLASSES,
    Approver,
    DirectoryView,
    NoIndependentApprover,
    Plan,
    RoutingRequest,
)
from broker.routing.plan import ROLE_RESOLVERS, escalation_target, plan_route, stand_in
from broker.routing.policy import Policy, load_policy, parse_policy
from testing.directories import FAST, PROVINCIAL_BUREAU, directories

DEFAULT = load_policy()
ROLES = sorted(ROLE_RESOLVERS)


@st.composite
def requests(draw: st.DrawFn, directory: DirectoryView) -> RoutingRequest:
    ids = sorted(directory.organisations)
    kind = draw(st.sampled_from(REQUEST_KINDS))
    dataset = kind in DATASET_KINDS
    requester_id = draw(st.sampled_from(ids))
    return RoutingRequest(
        kind=kind,
        requester_id=requester_id,
        # an IT project's body is the requester itself
        provider_id=requester_id if kind in OWN_CDO_KINDS else draw(st.sampled_from(ids)),
        sharing_class=draw(st.sampled_from(SHARING_CLASSES)) if dataset else None,
        has_legal_basis=draw(st.booleans()),
        grade=draw(st.sampled_from(GRADES)) if dataset else None,
    )


@st.composite
def steps(draw: st.DrawFn) -> dict[str, Any]:
    roles = draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=4, unique=True))
    step: dict[str, Any] = {"approvers": roles, "sla_seconds": 3600}
    if draw(st.booleans()):
        step["required"] = draw(st.integers(1, len(roles)))
    return step


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    """The default policy, or one catch-all rule routing through random steps."""
    if draw(st.booleans()):
        return DEFAULT
    rule = {"name": "random", "when": {}, "steps": draw(st.lists(steps(), min_size=1, max_size=4))}
    return parse_policy(
        {
            "version": 1,
            "escalation": ["department", "government", "data_bureau"],
            "reminder_before_seconds": 0,
            "rules": [rule],
        }
    )


Case = tuple[DirectoryView, RoutingRequest, Plan]


@st.composite
def maybe_cases(
    draw: st.DrawFn, policy: st.SearchStrategy[Policy]
) -> tuple[DirectoryView, RoutingRequest, Plan | None]:
    """A plan, or None where nobody but the requester could decide a step."""
    directory = draw(directories())
    request = draw(requests(directory))
    try:
        return directory, request, plan_route(request, directory, draw(policy))
    except NoIndependentApprover:
        return directory, request, None


def cases(policy: st.SearchStrategy[Policy]) -> st.SearchStrategy[Case]:
    return maybe_cases(policy).filter(lambda case: case[2] is not None)  # type: ignore[return-value]


def _can_decide(directory: DirectoryView, org_id: str) -> bool:
    org = directory.organisations[org_id]
    return org.has_active_cdo or org.kind == "data_bureau"


@FAST
@given(cases(policies()))
def test_a_plan_is_well_formed(case: Case) -> None:
    _, _, plan = case
    assert (plan.outcome == "route") == bool(plan.steps)
    assert [step.index for step in plan.steps] == list(range(len(plan.steps)))
    for step in plan.steps:
        assert 1 <= step.required <= len(step.approvers)


@FAST
@given(cases(policies()))
def test_every_planned_step_ends_at_a_body_with_an_active_cdo_or_a_bureau(case: Case) -> None:
    directory, request, plan = case
    for step in plan.steps:
        for approver in step.approvers:
            assert _can_decide(directory, approver.organisation_id)
            body = approver.acting_for
            if body is None or body == request.requester_id:
                continue  # the body itself, or one standing in for the requester (below)
            # a body without a CDO: its level's bureau, or above it when that is the requester
            assert not _can_decide(directory, body)
            bureau = directory.data_bureau_for(body)
            assert approver.organisation_id == bureau or bureau == request.requester_id


@FAST
@given(cases(policies()), st.data())
def test_no_approver_decides_twice_in_one_route(case: Case, data: st.DataObject) -> None:
    """Also as lapsed approvers escalate, by the rule `sla.escalate_step` applies: a step goes
    up to `escalation_target` unless that body already approves somewhere in the route."""
    directory, request, plan = case
    route = [[a.organisation_id for a in step.approvers] for step in plan.steps]
    planned = {org for step in route for org in step}
    for _ in range(data.draw(st.integers(0, 6)) if route else 0):
        step = data.draw(st.sampled_from(route))
        lapsed = data.draw(st.sampled_from(step))
        target = escalation_target(lapsed, directory, DEFAULT.escalation, request.requester_id)
        if target is not None and target not in planned:
            step[step.index(lapsed)] = target
            planned.add(target)
        deciders = [org for step in route for org in step]
        assert len(deciders) == len(set(deciders)), f"an organisation decides twice: {route}"
        assert all(_can_decide(directory, org) for org in deciders)


@FAST
@given(cases(st.just(DEFAULT)))
def test_the_default_policy_refuses_exactly_not_shareable_without_legal_basis(case: Case) -> None:
    """... and core data without one; general unconditional data is approved at once; a demand
    and an IT project are always routed."""
    _, request, plan = case
    needs_basis = request.sharing_class == "not_shareable" or request.grade == "core"
    assert (plan.outcome == "refuse") == (needs_basis and not request.has_legal_basis)
    if request.sharing_class == "unconditional" and request.grade == "general":
        assert plan.outcome == "approve"
    if request.kind not in DATASET_KINDS:
        assert plan.outcome == "route"


CHAINS = st.permutations(["department", "government", "data_bureau"]).flatmap(
    lambda kinds: st.integers(1, 3).map(lambda n: tuple(kinds[:n]))
)


@FAST
@given(directories(), CHAINS)
def test_escalation_climbs_without_repeating_and_stops(
    directory: DirectoryView, chain: tuple[str, ...]
) -> None:
    for start in directory.organisations:
        visited = [start]
        current = escalation_target(start, directory, chain)
        while current is not None:
            assert current not in visited, f"{start}: escalation revisits {current}: {visited}"
            assert _can_decide(directory, current)
            visited.append(current)
            assert len(visited) <= len(directory.organisations)
            current = escalation_target(current, directory, chain)
        if chain == DEFAULT.escalation and start != PROVINCIAL_BUREAU:
            assert visited[-1] == PROVINCIAL_BUREAU


# --- separation of duties ---


@FAST
@given(cases(policies()), st.data())
def test_the_requester_never_approves_a_planned_or_escalated_step(
    case: Case, data: st.DataObject
) -> None:
    """For any directory, request and policy: the requester is no approver of any planned step,
    nor of any step after any sequence of lapses (the rule `sla.escalate_step` applies), nor
    the body a lapse escalates to. (An IT project is decided by its own body's CDO by design:
    there separation holds by person, requests/separation.py.)"""
    directory, request, plan = case
    if request.kind in OWN_CDO_KINDS:
        return
    route = [[a.organisation_id for a in step.approvers] for step in plan.steps]
    assert all(request.requester_id not in step for step in route), route
    planned = {org for step in route for org in step}
    for _ in range(data.draw(st.integers(0, 8)) if route else 0):
        step = data.draw(st.sampled_from(route))
        lapsed = data.draw(st.sampled_from(step))
        target = escalation_target(lapsed, directory, DEFAULT.escalation, request.requester_id)
        assert target != request.requester_id
        if target is not None and target not in planned:
            step[step.index(lapsed)] = target
            planned.add(target)
        assert all(request.requester_id not in step for step in route), route


@FAST
@given(directories(), st.data())
def test_stand_in_is_the_body_its_bureau_or_the_next_one_up(
    directory: DirectoryView, data: st.DataObject
) -> None:
    """And it refuses (NoIndependentApprover) only when the step would fall to the requester
    and the escalation chain above the requester holds nobody else."""
    ids = sorted(directory.organisations)
    bureaus = [i for i in ids if directory.organisations[i].kind == "data_bureau"]
    body = data.draw(st.sampled_from(ids))
    requester = data.draw(st.sampled_from(bureaus) | st.sampled_from(ids))
    try:
        approver = stand_in(body, directory, DEFAULT.escalation, requester)
    except NoIndependentApprover:
        would_decide = body if _can_decide(directory, body) else directory.data_bureau_for(body)
        assert would_decide == requester
        assert escalation_target(requester, directory, DEFAULT.escalation, requester) is None
        return
    assert approver.organisation_id != requester
    assert _can_decide(directory, approver.organisation_id)
    if _can_decide(directory, body) and body != requester:
        assert approver == Approver(body)
    elif directory.data_bureau_for(body) != requester and body != requester:
        assert approver == Approver(str(directory.data_bureau_for(body)), acting_for=body)
    else:
        assert approver.acting_for == body
