"""Plan which CDO(s) decide a request, and whom an overdue step escalates to. Pure functions.

`plan_route` picks the policy's first matching rule, resolves each step's roles to bodies, puts
the data bureau in for a body without an active CDO (DOMAIN rule 4), and lets no organisation
decide twice in one plan: a later occurrence is dropped, an emptied step disappears and `required`
shrinks to what remains.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from broker.routing.model import (
    Approver,
    DirectoryView,
    Plan,
    PlannedStep,
    RoutingError,
    RoutingRequest,
)
from broker.routing.policy import Facts, Policy, StepSpec

_Resolve = Callable[[RoutingRequest, DirectoryView], str | None]

# Role name (as the policy spells it) -> the body it names for a request; the schema's role enum
# is this table's keys (a test keeps them equal).
ROLE_RESOLVERS: dict[str, _Resolve] = {
    "provider_department": lambda r, d: r.provider_id,
    "provider_government": lambda r, d: d.government_of(r.provider_id),
    "provider_data_bureau": lambda r, d: d.data_bureau_for(r.provider_id),
    "requester_department": lambda r, d: r.requester_id,
    "requester_government": lambda r, d: d.government_of(r.requester_id),
    "requester_data_bureau": lambda r, d: d.data_bureau_for(r.requester_id),
}


def facts_of(request: RoutingRequest, directory: DirectoryView) -> Facts:
    cross_level = directory.is_cross_level(request.requester_id, request.provider_id)
    return Facts(
        sharing_class=request.sharing_class,
        kind=request.kind,
        legal_basis=request.has_legal_basis,
        cross_level=cross_level,
        cross_department=not cross_level and request.requester_id != request.provider_id,
    )


def plan_route(request: RoutingRequest, directory: DirectoryView, policy: Policy) -> Plan:
    rule = policy.rule_for(facts_of(request, directory))
    if rule.outcome != "route":
        return Plan(outcome=rule.outcome, steps=(), rule=rule.name, reason=rule.reason)
    steps: list[PlannedStep] = []
    deciding: set[str] = set()  # organisations already approving in this plan
    for spec in rule.steps:
        approvers: list[Approver] = []
        for role in spec.roles:
            approver = _approver(_body(role, request, directory), directory)
            if approver.organisation_id not in deciding:
                deciding.add(approver.organisation_id)
                approvers.append(approver)
        if approvers:
            steps.append(_step(len(steps), spec, tuple(approvers)))
    if not steps:  # everyone who would decide already does so elsewhere: nothing left to ask
        return Plan(outcome="approve", steps=(), rule=rule.name, reason=None)
    return Plan(outcome="route", steps=tuple(steps), rule=rule.name, reason=None)


def escalation_target(
    current_approver_org_id: str, directory: DirectoryView, chain: Sequence[str]
) -> str | None:
    """Whom an overdue step goes to next (DOMAIN rule 5), or None at the top.

    First the kinds after the current body's in `chain`, at its own government (a department's
    government, then that government's bureau); then the bureaus of the governments above, ending
    at the provincial bureau. A body whose kind the chain leaves out climbs through the whole
    chain at its own government. Bodies without an active CDO are skipped; a bureau always counts.
    """
    for candidate in _escalation_ladder(current_approver_org_id, directory, chain):
        org = directory.organisation(candidate)
        if org.has_active_cdo or org.kind == "data_bureau":
            return candidate
    return None


def _escalation_ladder(
    org_id: str, directory: DirectoryView, chain: Sequence[str]
) -> Iterator[str]:
    kind = directory.organisation(org_id).kind
    later = chain[chain.index(kind) + 1 :] if kind in chain else chain
    governments = iter(directory.governments_up(org_id))
    own = next(governments)
    for later_kind in later:
        # "department" names no single body above a department, so only these two resolve.
        if later_kind == "government":
            yield own
        elif later_kind == "data_bureau" and (bureau := directory.bureau_of_government(own)):
            yield bureau
    for government in governments:
        if bureau := directory.bureau_of_government(government):
            yield bureau


def _body(role: str, request: RoutingRequest, directory: DirectoryView) -> str:
    body = ROLE_RESOLVERS[role](request, directory)
    if body is None:
        raise RoutingError(f"role {role!r} names no body: no data bureau above the party")
    return body


def _approver(body: str, directory: DirectoryView) -> Approver:
    org = directory.organisation(body)
    if org.has_active_cdo or org.kind == "data_bureau":
        return Approver(organisation_id=body)
    bureau = directory.data_bureau_for(body)
    if bureau is None:
        raise RoutingError(f"{body!r} has no active CDO and no data bureau to act for it")
    return Approver(organisation_id=bureau, acting_for=body)


def _step(index: int, spec: StepSpec, approvers: tuple[Approver, ...]) -> PlannedStep:
    return PlannedStep(
        index=index,
        role="+".join(spec.roles),
        approvers=approvers,
        required=min(spec.required, len(approvers)),
        sla_seconds=spec.sla_seconds,
    )
