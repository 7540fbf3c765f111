"""Grants as the API answers and the console pages show them: with the introspections' uses
that Redis holds and their rows do not yet (oauth/uses.py), so a use shows as soon as its
introspection has answered; the count and the latest use as `use_counts` read them, not as the
row the caller read earlier (a flush may have committed since)."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from broker.grants.schemas import GrantOut
from broker.oauth.uses import use_counts
from core.models.grants import Grant


async def shown(
    session: AsyncSession, redis: Redis | None, rows: Sequence[Grant]
) -> list[GrantOut]:
    counts = await use_counts(session, redis, {g.id for g in rows})
    answers = []
    for grant in rows:
        answer = GrantOut.model_validate(grant)
        if (now := counts.get(grant.id)) is not None:
            answer = answer.model_copy(
                update={"use_count": now.count, "last_used_at": now.last_used_at}
            )
        answers.append(answer)
    return answers


async def one_shown(session: AsyncSession, redis: Redis | None, grant: Grant) -> GrantOut:
    return (await shown(session, redis, [grant]))[0]
