"""A filing's route, planned once per directory snapshot and policy (routing/plan.py's
`plan_route` is pure over the routing request, the directory's view and the policy), with the
`routed` event's summary of it made once per plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from broker.directory.repository import DirectorySnapshot
from broker.routing import model as routing
from broker.routing.plan import plan_route
from broker.routing.policy import Policy


@dataclass
class Planned:
    plan: routing.Plan
    summary: list[dict[str, Any]] | None = None  # the `routed` event's route, made at first use


class Plans:
    """The plans made over one directory snapshot with one policy, by routing request.
    `plan_route` is pure over the three, and a snapshot is made anew (another object) whenever the
    directory changes (its version, read with every filing's context) or a CDO's term or a
    delegation starts or ends: kept while both are the same objects, the plans are exact."""

    _LIMIT = 10_000  # routing requests a snapshot keeps plans for; then it starts again

    def __init__(self) -> None:
        self._directory: DirectorySnapshot | None = None
        self._policy: Policy | None = None
        self._made: dict[routing.RoutingRequest, Planned] = {}

    def of(
        self, request: routing.RoutingRequest, directory: DirectorySnapshot, policy: Policy
    ) -> Planned:
        if (
            directory is not self._directory
            or policy is not self._policy
            or len(self._made) >= self._LIMIT
        ):
            self._directory, self._policy, self._made = directory, policy, {}
        planned = self._made.get(request)
        if planned is None:  # a NoIndependentApprover is not kept: raised again next time
            planned = self._made[request] = Planned(plan_route(request, directory.view, policy))
        return planned


PLANS = Plans()
