"""Routing by grade (the policy's `grades`) and the kinds that name no dataset, on the pilot
directory: important data adds the provider government's CDO, core data needs a legal basis
and adds the provincial bureau; a demand goes to the requester's government, then the presumed
provider; an IT project to its own body's CDO, then its government's."""

from __future__ import annotations

import pytest

from broker.routing.model import RoutingRequest
from broker.routing.plan import plan_route
from broker.routing.policy import PolicyError, load_policy, parse_policy
from testing.directories import DIRECTORY

POLICY = load_policy()


def _route(request: RoutingRequest) -> list[list[str]]:
    plan = plan_route(request, DIRECTORY, POLICY)
    assert plan.outcome == "route", plan
    return [[a.organisation_id for a in step.approvers] for step in plan.steps]


def _share(
    grade: str, sharing_class: str = "conditional", *, basis: bool = False
) -> RoutingRequest:
    return RoutingRequest("share", "gd-rst", "gd-gat", sharing_class, basis, grade)


def test_general_data_routes_as_its_class_says() -> None:
    assert _route(_share("general")) == [["gd-gat"]]
    assert plan_route(_share("general", "unconditional"), DIRECTORY, POLICY).outcome == "approve"


def test_important_data_adds_the_provider_government() -> None:
    assert _route(_share("important")) == [["gd-gat"], ["gd-gov"]]
    plan = plan_route(_share("important"), DIRECTORY, POLICY)
    assert plan.rule == "conditional+important"
    # an unconditional class no longer approves important data at once
    assert _route(_share("important", "unconditional")) == [["gd-gov"]]


def test_core_data_needs_a_legal_basis_and_the_provincial_bureau() -> None:
    refused = plan_route(_share("core"), DIRECTORY, POLICY)
    assert refused.outcome == "refuse"
    assert refused.reason is not None
    assert "核心数据" in refused.reason
    assert _route(_share("core", basis=True)) == [["gd-gat"], ["gd-gov"], ["gd-dsb"]]


def test_the_government_already_deciding_is_not_asked_twice() -> None:
    # not shareable with a legal basis already ends at the provider government
    request = _share("important", "not_shareable", basis=True)
    assert _route(request) == [["gd-gat"], ["gd-gov"]]


def test_a_demand_goes_to_the_requester_government_then_the_presumed_provider() -> None:
    demand = RoutingRequest("demand", "gz-gaj", "gz-rsj", None, False, None)
    assert _route(demand) == [["gz-gov"], ["gz-rsj"]]


def test_an_it_project_goes_to_its_own_cdo_then_its_government() -> None:
    project = RoutingRequest("it_project", "gz-gaj", "gz-gaj", None, False, None)
    assert _route(project) == [["gz-gaj"], ["gz-gov"]]


def test_a_kind_without_a_dataset_has_no_class_or_grade() -> None:
    with pytest.raises(ValueError, match="names no dataset"):
        RoutingRequest("demand", "gz-gaj", "gz-rsj", "conditional", False, None)
    with pytest.raises(ValueError, match="unknown grade"):
        RoutingRequest("share", "gz-gaj", "gz-rsj", "conditional", False, "secret")


def test_a_policy_must_route_demands_and_it_projects() -> None:
    """A policy whose rules test only sharing classes matches no demand: refused at load."""
    data = {
        "version": 1,
        "escalation": ["department", "government", "data_bureau"],
        "reminder_before_seconds": 0,
        "rules": [
            {"name": "all", "when": {"sharing_class": c}, "outcome": "approve"}
            for c in ("unconditional", "conditional", "not_shareable")
        ],
    }
    with pytest.raises(PolicyError, match="no rule matches") as raised:
        parse_policy(data)
    assert "kind='demand'" in str(raised.value) or "kind='it_project'" in str(raised.value)


def test_a_grade_that_requires_a_legal_basis_gives_its_reason() -> None:
    data = {
        "version": 1,
        "escalation": ["department"],
        "reminder_before_seconds": 0,
        "rules": [{"name": "all", "when": {}, "outcome": "approve"}],
        "grades": {"core": {"legal_basis_required": True}},
    }
    with pytest.raises(PolicyError, match="reason"):
        parse_policy(data)
