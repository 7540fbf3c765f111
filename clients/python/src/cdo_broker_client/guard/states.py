"""What the guard knows of the grants on its datasets: those not in force, from the feed.

A grant token verifies until it expires; the broker's feed says when its grant was paused,
revoked or expired before that. Only those grants are kept (a grant the feed never named is in
force), each until its end, after which no token of it verifies anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

NOT_IN_FORCE = frozenset({"paused", "revoked", "expired"})


@dataclass(frozen=True)
class Standing:
    status: str
    ends_at: float  # unix seconds


def standing_of(change: Mapping[str, Any]) -> Standing:
    ends_at = datetime.fromisoformat(str(change["ends_at"])).timestamp()
    return Standing(str(change["status"]), ends_at)


@dataclass
class GrantStates:
    _not_in_force: dict[str, Standing] = field(default_factory=dict)

    def refusal(self, grant_id: str) -> str | None:
        """`paused`, `revoked` or `expired` if the grant is not in force; None if it is."""
        standing = self._not_in_force.get(grant_id)
        return None if standing is None else standing.status

    def apply(self, change: Mapping[str, Any]) -> None:
        """One `grant.*` event of the feed (or a `grant.state` of its opening snapshot)."""
        grant_id = str(change["grant_id"])
        standing = standing_of(change)
        if standing.status in NOT_IN_FORCE:
            self._not_in_force[grant_id] = standing
        else:
            self._not_in_force.pop(grant_id, None)

    def replace(self, snapshot: GrantStates) -> None:
        """Take a fresh snapshot's knowledge whole (after a reconnect without a position)."""
        self._not_in_force = dict(snapshot._not_in_force)

    def forget_ended(self, now: float) -> None:
        """Grants past their end need no entry: no token of theirs verifies any more."""
        ended = [g for g, s in self._not_in_force.items() if s.ends_at <= now]
        for grant_id in ended:
            del self._not_in_force[grant_id]

    def __len__(self) -> int:
        return len(self._not_in_force)
