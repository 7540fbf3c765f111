"""Filing's plans kept per directory snapshot and policy (`filing/plans.py`, `Plans`): kept
only while both are the same objects, so a directory changed or a policy reloaded plans again."""

from __future__ import annotations

import pytest

from broker.directory.repository import DirectorySnapshot
from broker.requests.filing.plans import Plans
from broker.routing.model import NoIndependentApprover, RoutingRequest
from broker.routing.plan import plan_route
from broker.routing.policy import load_policy
from testing.directories import DIRECTORY

POLICY = load_policy()
ASKED = RoutingRequest("share", "gz-gaj", "gz-rsj", "conditional", False)


def _snapshot() -> DirectorySnapshot:
    return DirectorySnapshot(DIRECTORY, {}, {})


def test_a_plan_is_kept_for_the_same_snapshot_and_policy() -> None:
    plans, snapshot = Plans(), _snapshot()
    first = plans.of(ASKED, snapshot, POLICY)
    assert first.plan == plan_route(ASKED, DIRECTORY, POLICY)
    assert plans.of(ASKED, snapshot, POLICY) is first
    other = RoutingRequest("share", "gz-gaj", "gd-rst", "conditional", False)
    assert plans.of(other, snapshot, POLICY).plan == plan_route(other, DIRECTORY, POLICY)


def test_another_snapshot_or_policy_plans_again() -> None:
    plans, snapshot = Plans(), _snapshot()
    first = plans.of(ASKED, snapshot, POLICY)
    first.summary = [{"index": 0}]
    changed = _snapshot()  # the directory changed, or a term began or ended: a new snapshot
    again = plans.of(ASKED, changed, POLICY)
    assert again is not first
    assert again.summary is None
    assert plans.of(ASKED, changed, load_policy()) is not again  # the policy loaded again


def test_nobody_independent_is_raised_every_time() -> None:
    plans, snapshot = Plans(), _snapshot()
    nobody = RoutingRequest("share", "gd-dsb", "gd-jyt", "conditional", False)
    for _ in range(2):
        with pytest.raises(NoIndependentApprover):
            plans.of(nobody, snapshot, POLICY)
