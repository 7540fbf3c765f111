"""Plan which CDO(s) decide a request, and whom an overdue step escalates to. Pure functions.

`plan_route` picks the policy's first matching rule, resolves each step's roles to bodies, puts
the data bureau in for a body without an active CDO (DOMAIN rule 4), and lets no organisation
decide twice in one plan: a later occurrence is dropped, an emptied step disappears and `required`
shrinks to what remains.

Separation of duties (CONTRACT v2, "Authority"): the requester never decides its own request.
Where a step would go to it (as the body named, or as the bureau acting for one without a CDO),
it goes to the next body up the escalation chain that is not the requester (`acting_for` names
the body it stands in for); escalation skips the requester the same way. When nobody above is
left (the provincial bureau filing for a provincial body without a CDO), planning raises
`NoIndependentApprover`, which filing answers with a 422: a request nobody independent could
decide is refused rather than left with its requester.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet

from broker.routing.model import (
    Approver,
    DirectoryView,
    NoIndependentApprover,
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
    "provincial_data_bureau": lambda r, d: d.provincial_bureau_above(r.provider_id),
}


def facts_of(request: RoutingRequest, directory: DirectoryView) -> Facts:
    cross_level = directory.is_cross_level(request.requester_id, request.provider_id)
    return Facts(
        sharing_class=request.sharing_class,
        kind=request.kind,
        legal_basis=request.has_legal_basis,
        cross_level=cross_level,
        cross_department=not cross_level and request.requester_id != request.provider_id,
        grade=request.grade,
    )


def plan_route(request: RoutingRequest, directory: DirectoryView, policy: Policy) -> Plan:
    """The matched rule's route, with what the dataset's grade adds after it (policy `grades`):
    important data also goes to the provider government's CDO; core data is refused without a
    legal basis and also goes to the provincial bureau (in the default policy)."""
    rule = policy.rule_for(facts_of(request, directory))
    if rule.outcome == "refuse":
        return Plan(outcome="refuse", steps=(), rule=rule.name, reason=rule.reason)
    graded = policy.grade_rule(request.grade)
    if graded.legal_basis_required and not request.has_legal_basis:
        name = f"{rule.name}+{request.grade}-without-legal-basis"
        return Plan(outcome="refuse", steps=(), rule=name, reason=graded.reason)
    specs = (rule.steps if rule.outcome == "route" else ()) + graded.steps
    name = f"{rule.name}+{request.grade}" if graded.steps else rule.name
    steps: list[PlannedStep] = []
    deciding: set[str] = set()  # organisations already approving in this plan
    for spec in specs:
        approvers: list[Approver] = []
        for role in spec.roles:
            approver = stand_in(
                _body(role, request, directory),
                directory,
                policy.escalation,
                request.excluded_approver,
            )
            if approver.organisation_id not in deciding:
                deciding.add(approver.organisation_id)
                approvers.append(approver)
        if approvers:
            steps.append(_step(len(steps), spec, tuple(approvers)))
    if not steps:  # everyone who would decide already does so elsewhere: nothing left to ask
        return Plan(outcome="approve", steps=(), rule=name, reason=None)
    return Plan(outcome="route", steps=tuple(steps), rule=name, reason=None)


def escalation_target(
    current_approver_org_id: str,
    directory: DirectoryView,
    chain: Sequence[str],
    requester_id: str | None = None,
) -> str | None:
    """Whom an overdue step goes to next (DOMAIN rule 5), or None at the top.

    First the kinds after the current body's in `chain`, at its own government (a department's
    government, then that government's bureau); then the bureaus of the governments above, ending
    at the provincial bureau. A body whose kind the chain leaves out climbs through the whole
    chain at its own government. Bodies without an active CDO are skipped; a bureau always counts.
    The requester is skipped too: it never decides its own request.
    """
    for candidate in _escalation_ladder(current_approver_org_id, directory, chain):
        if candidate != requester_id and _can_decide(directory, candidate):
            return candidate
    return None


def stand_in(
    body: str, directory: DirectoryView, chain: Sequence[str], requester_id: str | None
) -> Approver:
    """Who decides for `body` in a request filed by `requester_id`: the body itself if it has an
    active CDO (or is a bureau), else its level's data bureau acting for it (DOMAIN rule 4); and
    if that is the requester, the next body up the escalation chain that is not. Also who takes
    over a step whose approver's CDO appointment ended."""
    if _can_decide(directory, body):
        candidate = body
    else:
        bureau = directory.data_bureau_for(body)
        if bureau is None:
            raise RoutingError(f"{body!r} has no active CDO and no data bureau to act for it")
        candidate = bureau
    if candidate != requester_id:
        return Approver(organisation_id=candidate, acting_for=None if candidate == body else body)
    above = escalation_target(candidate, directory, chain, requester_id)
    if above is None:
        raise NoIndependentApprover(
            f"{body!r}: every body that could decide for it is the requester {requester_id!r}"
        )
    return Approver(organisation_id=above, acting_for=body)


def hand_over_target(
    body: str,
    directory: DirectoryView,
    chain: Sequence[str],
    requester_id: str,
    deciding: AbstractSet[str],
) -> Approver | None:
    """Who takes over `body`'s place on a step once its CDO appointment ended: its stand-in,
    or, if that body already decides in the route (nobody decides twice), the next one up the
    chain that does not; None when nobody is left (the step then waits for its escalation)."""
    try:
        approver = stand_in(body, directory, chain, requester_id)
    except NoIndependentApprover:
        return None
    target: str | None = approver.organisation_id
    while target is not None and target in deciding:
        target = escalation_target(target, directory, chain, requester_id)
    return None if target is None else Approver(organisation_id=target, acting_for=body)


def _can_decide(directory: DirectoryView, org_id: str) -> bool:
    org = directory.organisation(org_id)
    return org.has_active_cdo or org.kind == "data_bureau"


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


def _step(index: int, spec: StepSpec, approvers: tuple[Approver, ...]) -> PlannedStep:
    return PlannedStep(
        index=index,
        role="+".join(spec.roles),
        approvers=approvers,
        required=min(spec.required, len(approvers)),
        sla_seconds=spec.sla_seconds,
        sla_working_days=spec.sla_working_days,
    )
