"""Who coordinates an appeal, on the hand-built pilot directory: the default policy's chain at
each level, a policy that names another chain for one level, and the ends of the ladder."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from broker.routing.appeal import appeal_chain, appeal_coordinator, next_coordinator
from broker.routing.model import NoIndependentApprover
from broker.routing.policy import AppealPolicy, PolicyError, load_policy, parse_policy
from testing.directories import DIRECTORY

DEFAULT = load_policy().appeal
LEVELS = ("province", "city", "county", "town")


def _coordinator(refused_by: list[str], requester: str, policy: AppealPolicy = DEFAULT) -> str:
    chain = appeal_chain(refused_by, DIRECTORY, policy)
    return appeal_coordinator(refused_by, requester, DIRECTORY, chain)


def test_the_default_policy_names_the_chain_at_every_level() -> None:
    assert DEFAULT.deadline_working_days == 10
    assert DEFAULT.decision_working_days == 5
    for level in LEVELS:
        assert DEFAULT.chain_for(level) == ("department", "government", "data_bureau")


@pytest.mark.parametrize(
    ("refused_by", "requester", "coordinator"),
    [
        # a provincial department's refusal of a city department: the provincial government's CDO
        (["gd-gat"], "gz-rsj", "gd-gov"),
        # a city department's refusal: its city government's CDO
        (["gz-gaj"], "gz-rsj", "gz-gov"),
        # the government's own refusal (its endorsement step): its data bureau
        (["gz-gov"], "gz-rsj", "gz-dsb"),
        # a county department's refusal, its government having a CDO
        (["gz-th-gaj"], "gz-rsj", "gz-th-gov"),
        # both who refused are passed over: the government refused too, so its bureau
        (["gz-gaj", "gz-gov"], "gz-rsj", "gz-dsb"),
        # the requester is never its own coordinator: its government filed, so the bureau
        (["gz-gaj"], "gz-gov", "gz-dsb"),
        # a county without a CDO: the next body up that can decide (the city's bureau)
        (["gz-by-wjj"], "gz-rsj", "gz-dsb"),
    ],
)
def test_the_coordinator_is_the_first_body_up_from_the_refusal(
    refused_by: list[str], requester: str, coordinator: str
) -> None:
    assert _coordinator(refused_by, requester) == coordinator


def test_a_policy_names_another_coordinator_for_one_level() -> None:
    policy = parse_policy(
        {
            "version": 1,
            "escalation": ["department", "government", "data_bureau"],
            "reminder_before_seconds": 3600,
            "appeal": {"levels": {"province": ["department", "data_bureau"]}},
            "rules": [{"name": "otherwise", "when": {}, "outcome": "approve"}],
        }
    ).appeal
    # a provincial department's refusal goes straight to the provincial bureau ...
    assert _coordinator(["gd-gat"], "gz-rsj", policy) == "gd-dsb"
    # ... while the other levels keep the default chain
    assert _coordinator(["gz-gaj"], "gz-rsj", policy) == "gz-gov"
    assert policy.deadline_working_days == 10


def test_an_overdue_appeal_climbs_to_the_provincial_bureau_and_stops() -> None:
    refused = ["gz-gaj"]
    chain = appeal_chain(refused, DIRECTORY, DEFAULT)
    climbed = [appeal_coordinator(refused, "gz-rsj", DIRECTORY, chain)]
    while (above := next_coordinator(climbed[-1], refused, "gz-rsj", DIRECTORY, chain)) is not None:
        climbed.append(above)
    assert climbed == ["gz-gov", "gz-dsb", "gd-dsb"]


def test_nobody_left_to_coordinate_is_said() -> None:
    # the provincial bureau refused, and nobody is above it
    with pytest.raises(NoIndependentApprover):
        _coordinator(["gd-dsb"], "gz-rsj")


def _with_appeal(appeal: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(
        {
            "version": 1,
            "escalation": ["department", "government", "data_bureau"],
            "reminder_before_seconds": 3600,
            "appeal": appeal,
            "rules": [{"name": "otherwise", "when": {}, "outcome": "approve"}],
        }
    )


@pytest.mark.parametrize(
    ("appeal", "path"),
    [
        ({"levels": {"village": ["government"]}}, "$.appeal.levels"),
        ({"levels": {"city": []}}, "$.appeal.levels.city"),
        ({"levels": {"city": ["mayor"]}}, "$.appeal.levels.city[0]"),
        ({"deadline_working_days": 0}, "$.appeal.deadline_working_days"),
    ],
)
def test_a_bad_appeal_section_is_refused_naming_its_path(appeal: dict[str, Any], path: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(_with_appeal(appeal))
    assert path in {where for where, _ in caught.value.problems}
