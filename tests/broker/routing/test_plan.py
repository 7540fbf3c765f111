"""plan_route and escalation_target on a small hand-built directory, one DOMAIN rule at a time."""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest
import yaml

from broker.routing.model import (
    Approver,
    DirectoryView,
    NoIndependentApprover,
    OrgView,
    Plan,
    RoutingError,
    RoutingRequest,
)
from broker.routing.plan import escalation_target, facts_of, plan_route
from broker.routing.policy import Condition, Policy, Rule, load_policy, parse_policy
from broker.seed.pilot import PILOT_FILE
from testing.directories import DIRECTORY, org_view

POLICY = load_policy()
CHAIN = POLICY.escalation


def _plan(
    requester: str,
    provider: str,
    sharing_class: str = "conditional",
    *,
    kind: str = "share",
    legal_basis: bool = False,
    policy: Policy = POLICY,
) -> Plan:
    request = RoutingRequest(kind, requester, provider, sharing_class, legal_basis)
    return plan_route(request, DIRECTORY, policy)


def _deciders(plan: Plan) -> list[list[tuple[str, str | None]]]:
    """Each step's approvers as (organisation, acting_for), for compact assertions."""
    return [[(a.organisation_id, a.acting_for) for a in step.approvers] for step in plan.steps]


def _one_rule_policy(*steps: dict[str, Any]) -> Policy:
    return parse_policy(
        {
            "version": 1,
            "escalation": ["department", "government", "data_bureau"],
            "reminder_before_seconds": 3600,
            "rules": [{"name": "custom", "when": {}, "steps": list(steps)}],
        }
    )


# --- rule 1: unconditional ---


def test_unconditional_is_approved_at_once() -> None:
    plan = _plan("gz-gaj", "gd-gat", "unconditional")
    assert plan == Plan(outcome="approve", steps=(), rule="unconditional", reason=None)


# --- rule 2: conditional ---


def test_conditional_same_level_same_government_goes_to_the_provider_only() -> None:
    plan = _plan("gz-gaj", "gz-rsj")
    assert (plan.outcome, plan.rule) == ("route", "conditional")
    assert _deciders(plan) == [[("gz-rsj", None)]]
    assert plan.steps[0].role == "provider_department"
    assert plan.steps[0].required == 1
    assert plan.steps[0].sla_seconds == 259200


def test_cross_level_share_is_endorsed_by_the_requesting_government_first() -> None:
    plan = _plan("gz-gaj", "gd-rst")
    assert plan.rule == "conditional-cross-level-or-return"
    assert _deciders(plan) == [[("gz-gov", None)], [("gd-rst", None)]]
    assert [(s.index, s.role, s.sla_seconds) for s in plan.steps] == [
        (0, "requester_government", 172800),
        (1, "provider_department", 259200),
    ]


def test_return_is_endorsed_by_the_requesting_government_first() -> None:
    plan = _plan("gz-th-gov", "gd-rst", kind="return")
    # A county government asking for itself does not endorse its own demand (separation of
    # duties): the next body up its chain does, the city's bureau, then the provider decides.
    assert _deciders(plan) == [[("gz-dsb", "gz-th-gov")], [("gd-rst", None)]]


def test_return_needs_the_endorsement_even_at_the_same_level() -> None:
    plan = _plan("gz-gaj", "gz-rsj", kind="return")
    assert plan.rule == "conditional-cross-level-or-return"
    assert _deciders(plan) == [[("gz-gov", None)], [("gz-rsj", None)]]


# --- rule 3: not shareable ---


def test_not_shareable_without_legal_basis_is_refused_with_a_reason() -> None:
    plan = _plan("gz-gaj", "gd-gat", "not_shareable")
    assert (plan.outcome, plan.steps, plan.rule) == (
        "refuse",
        (),
        "not-shareable-without-legal-basis",
    )
    assert plan.reason is not None
    assert "不予共享" in plan.reason
    assert "legal basis" in plan.reason


def test_not_shareable_with_legal_basis_needs_provider_then_its_government() -> None:
    plan = _plan("gz-gaj", "gd-gat", "not_shareable", legal_basis=True)
    assert plan.rule == "not-shareable-with-legal-basis"
    assert _deciders(plan) == [[("gd-gat", None)], [("gd-gov", None)]]
    assert [s.role for s in plan.steps] == ["provider_department", "provider_government"]


# --- rule 4: a body without an active CDO ---


def test_a_provider_without_cdo_is_decided_by_its_level_bureau() -> None:
    assert _deciders(_plan("gz-gaj", "gz-jyj")) == [[("gz-dsb", "gz-jyj")]]
    assert _deciders(_plan("gz-gaj", "gd-jyt")) == [[("gz-gov", None)], [("gd-dsb", "gd-jyt")]]


def test_a_requesting_government_without_cdo_is_stood_in_for_by_the_city_bureau() -> None:
    plan = _plan("gz-by-wjj", "gd-rst", kind="return")
    assert _deciders(plan) == [[("gz-dsb", "gz-by-gov")], [("gd-rst", None)]]


def test_a_city_without_bureau_falls_to_the_provincial_bureau() -> None:
    assert _deciders(_plan("gz-gaj", "st-gaj")) == [[("gd-dsb", "st-gaj")]]


def test_no_bureau_anywhere_is_a_routing_error() -> None:
    lonely = DirectoryView.of(
        [
            org_view("gov", "government", "province"),
            org_view("a", "department", "province", government="gov"),
            org_view("b", "department", "province", government="gov", cdo=False),
        ]
    )
    request = RoutingRequest("share", "a", "b", "conditional", False)
    with pytest.raises(RoutingError, match="no data bureau"):
        plan_route(request, lonely, POLICY)


# --- no organisation decides twice ---


def test_a_bureau_standing_in_twice_decides_once() -> None:
    # Both the county department and its county government lack a CDO: gz-dsb stands in for the
    # department in step 1, and the government's step, which would be gz-dsb again, disappears.
    plan = _plan("gz-gaj", "gz-by-wjj", "not_shareable", legal_basis=True)
    assert _deciders(plan) == [[("gz-dsb", "gz-by-wjj")]]
    assert plan.outcome == "route"
    assert plan.steps[0].index == 0


def test_a_shared_government_is_dropped_from_the_later_step_and_required_clamped() -> None:
    policy = _one_rule_policy(
        {"approvers": ["requester_government"], "sla_seconds": 60},
        {"approvers": ["provider_government", "provider_department"], "sla_seconds": 120},
    )
    plan = _plan("gz-gaj", "gz-rsj", policy=policy)
    assert _deciders(plan) == [[("gz-gov", None)], [("gz-rsj", None)]]
    assert plan.steps[1].required == 1  # "all of two" became "all of one"
    assert plan.steps[1].role == "provider_government+provider_department"


def test_a_later_step_that_empties_is_dropped_and_indices_stay_contiguous() -> None:
    policy = _one_rule_policy(
        {"approvers": ["requester_government"], "sla_seconds": 60},
        {"approvers": ["provider_government"], "sla_seconds": 60},
        {"approvers": ["provider_department"], "sla_seconds": 60},
    )
    plan = _plan("gz-gaj", "gz-rsj", policy=policy)
    assert [(s.index, s.role) for s in plan.steps] == [
        (0, "requester_government"),
        (1, "provider_department"),
    ]


def test_a_route_with_nobody_left_to_ask_is_approved() -> None:
    # Only a hand-built policy can route through no steps: the schema demands at least one.
    policy = Policy(1, CHAIN, 0, (Rule(name="empty", when=Condition(), outcome="route"),))
    assert _plan("gz-gaj", "gz-rsj", policy=policy).outcome == "approve"


# --- N of a set ---


def test_a_step_can_take_n_of_a_set() -> None:
    policy = _one_rule_policy(
        {
            "approvers": ["provider_department", "provider_government", "provider_data_bureau"],
            "required": 2,
            "sla_seconds": 600,
        }
    )
    (step,) = _plan("gz-gaj", "gd-rst", policy=policy).steps
    assert step.approvers == (Approver("gd-rst"), Approver("gd-gov"), Approver("gd-dsb"))
    assert step.required == 2


def test_a_step_without_required_needs_every_approver() -> None:
    policy = _one_rule_policy(
        {"approvers": ["provider_department", "requester_department"], "sla_seconds": 600}
    )
    (step,) = _plan("gz-gaj", "gd-rst", policy=policy).steps
    assert step.required == 2


# --- facts ---


@pytest.mark.parametrize(
    ("requester", "provider", "cross_level", "cross_department"),
    [
        ("gz-gaj", "gz-rsj", False, True),
        ("gz-gaj", "gd-rst", True, False),
        ("gz-gaj", "gz-gaj", False, False),
        ("gz-th-gov", "gz-by-gov", False, True),
    ],
)
def test_facts_of_a_request(
    requester: str, provider: str, cross_level: bool, cross_department: bool
) -> None:
    facts = facts_of(RoutingRequest("share", requester, provider, "conditional", False), DIRECTORY)
    assert (facts.cross_level, facts.cross_department) == (cross_level, cross_department)


# --- the directory view ---


def test_directory_helpers() -> None:
    assert DIRECTORY.government_of("gz-gaj") == "gz-gov"
    assert DIRECTORY.government_of("gz-gov") == "gz-gov"
    assert DIRECTORY.data_bureau_for("gz-th-gaj") == "gz-dsb"  # counties have no bureau
    assert DIRECTORY.data_bureau_for("gz-dsb") == "gz-dsb"
    assert DIRECTORY.data_bureau_for("st-gaj") == "gd-dsb"
    assert DIRECTORY.is_cross_level("gz-th-gov", "gz-gaj")
    assert not DIRECTORY.is_cross_level("gd-gov", "gd-dsb")


def test_unknown_bodies_and_values_are_refused() -> None:
    with pytest.raises(RoutingError, match="'nobody' is not in the directory"):
        DIRECTORY.government_of("nobody")
    with pytest.raises(ValueError, match="unknown sharing class"):
        RoutingRequest("share", "gz-gaj", "gz-rsj", "open", False)
    with pytest.raises(ValueError, match="unknown kind"):
        OrgView("x", "ministry", "province", None, None, True)


# --- rule 5: escalation ---


def _ladder(
    start: str, chain: tuple[str, ...] = CHAIN, directory: DirectoryView = DIRECTORY
) -> list[str]:
    targets = []
    current: str | None = escalation_target(start, directory, chain)
    while current is not None:
        targets.append(current)
        current = escalation_target(current, directory, chain)
    return targets


@pytest.mark.parametrize(
    ("start", "ladder"),
    [
        ("gz-gaj", ["gz-gov", "gz-dsb", "gd-dsb"]),
        ("gd-gat", ["gd-gov", "gd-dsb"]),
        ("gz-th-gaj", ["gz-th-gov", "gz-dsb", "gd-dsb"]),  # no county bureau: the city's
        ("gz-th-gov", ["gz-dsb", "gd-dsb"]),
        ("gz-dsb", ["gd-dsb"]),
        ("gd-gov", ["gd-dsb"]),
        ("gd-dsb", []),
        ("gz-by-wjj", ["gz-dsb", "gd-dsb"]),  # skips its government, which has no CDO
        ("st-gaj", ["gd-dsb"]),  # no CDO at its government and no city bureau
    ],
)
def test_escalation_climbs_to_the_provincial_bureau(start: str, ladder: list[str]) -> None:
    assert _ladder(start) == ladder


def test_escalation_follows_the_policy_chain() -> None:
    assert _ladder("gz-gaj", ("department", "data_bureau")) == ["gz-dsb", "gd-dsb"]
    # The bureau decides before the government at each level, so the province's government is last.
    assert _ladder("gz-gaj", ("department", "data_bureau", "government")) == [
        "gz-dsb",
        "gz-gov",
        "gd-dsb",
        "gd-gov",
    ]
    # A kind the chain leaves out climbs through the whole chain at its own level.
    assert _ladder("gz-gaj", ("department", "government")) == ["gz-gov", "gd-dsb", "gd-gov"]


# --- the pilot seed ---


def test_every_pilot_body_routes_and_escalates_to_the_provincial_bureau() -> None:
    seed = yaml.safe_load(PILOT_FILE.read_text(encoding="utf-8"))
    pilot = DirectoryView.of(
        OrgView(o["id"], o["kind"], o["level"], o["government_id"], o["parent_id"], "cdo" in o)
        for o in seed["organisations"]
    )
    refused = set()
    for requester, provider in product(pilot.organisations, repeat=2):
        for kind, sharing_class in [("return", "conditional"), ("share", "not_shareable")]:
            request = RoutingRequest(kind, requester, provider, sharing_class, True)
            try:
                assert plan_route(request, pilot, POLICY).outcome == "route"
            except NoIndependentApprover:
                refused.add((requester, provider))
    # Only the provincial bureau, for bodies it would act for (provincial departments and
    # cities with no CDO and no bureau of their own), and itself: nobody is above it
    # (separation of duties; filing answers 422).
    acted_for = {
        o.id
        for o in pilot.organisations.values()
        if not o.has_active_cdo and pilot.data_bureau_for(o.id) == "gd-dsb"
    }
    assert {"gd-jyt", "gd-wsjkw", "gd-scjgj", "st-gov"} <= acted_for
    assert refused == {("gd-dsb", p) for p in acted_for | {"gd-dsb"}}
    for start in pilot.organisations:
        ladder = _ladder(start, directory=pilot)
        assert ladder[-1:] == ([] if start == "gd-dsb" else ["gd-dsb"])


# --- separation of duties ---


def test_a_bureau_acting_for_a_body_without_a_cdo_is_replaced_when_it_is_the_requester() -> None:
    # gz-jyj has no CDO; gz-dsb would act for it, but gz-dsb filed: the next body up decides
    assert _deciders(_plan("gz-dsb", "gz-jyj")) == [[("gd-dsb", "gz-jyj")]]
    assert _deciders(_plan("gz-gaj", "gz-jyj")) == [[("gz-dsb", "gz-jyj")]]  # the usual case


def test_a_government_does_not_endorse_its_own_cross_level_request() -> None:
    assert _deciders(_plan("gz-gov", "gd-gat")) == [[("gz-dsb", "gz-gov")], [("gd-gat", None)]]


def test_escalation_skips_the_requester() -> None:
    assert escalation_target("gz-gov", DIRECTORY, CHAIN, "gz-dsb") == "gd-dsb"
    assert escalation_target("gz-gov", DIRECTORY, CHAIN) == "gz-dsb"
    assert escalation_target("gd-gov", DIRECTORY, CHAIN, "gd-dsb") is None  # the step stays


def test_nobody_independent_is_a_refusal() -> None:
    # the provincial bureau would act for gd-jyt itself, and nobody is above it
    with pytest.raises(NoIndependentApprover, match="'gd-jyt'"):
        _plan("gd-dsb", "gd-jyt")
