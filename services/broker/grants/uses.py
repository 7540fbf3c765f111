"""Uses reported by a provider's guard: counted as introspection counts them.

A guard that checks grant tokens offline (the client package's `GrantGuard`) sends its counts in
batches; each adds to the grant's `use_count` and moves `last_used_at` forward, for grants on the
caller's own datasets only (others are ignored and named in the answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.grants import repository


async def record_uses(
    session: AsyncSession,
    *,
    actor: Actor,
    uses: Sequence[tuple[str, int, datetime]],
    now: datetime,
) -> tuple[list[str], list[str]]:
    """Add `(grant id, count, last used)` uses; the grant ids counted and those ignored."""
    merged: dict[str, tuple[int, datetime]] = {}
    for grant_id, count, used_at in uses:
        before_count, before_at = merged.get(grant_id, (0, used_at))
        # a use reported from the future (a guard's clock ahead) counts as now
        merged[grant_id] = (before_count + count, min(max(before_at, used_at), now))
    provider_id = actor.organisation
    counted = await repository.add_uses(
        session, provider_id, [(g, n, at) for g, (n, at) in sorted(merged.items())]
    )
    if counted:
        await audit.record(
            session, "grant.uses_reported", actor=actor, subject=provider_id, now=now,
            uses={g: merged[g][0] for g in sorted(counted)},
        )  # fmt: skip
    return sorted(counted), sorted(set(merged) - counted)
