"""Grants as the API answers and the console pages show them: with the introspections' uses
that Redis holds and their rows do not yet (oauth/uses.py), so a use shows as soon as its
introspection has answered."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from broker.grants.schemas import GrantOut
from broker.oauth.uses import unflushed
from core.models.grants import Grant


async def shown(
    session: AsyncSession, redis: Redis | None, rows: Sequence[Grant]
) -> list[GrantOut]:
    pending = await unflushed(session, redis, {g.id for g in rows})
    answers = []
    for grant in rows:
        answer = GrantOut.model_validate(grant)
        if (more := pending.get(grant.id)) is not None:
            latest = more.last_used_at
            if answer.last_used_at is not None and answer.last_used_at > latest:
                latest = answer.last_used_at
            answer = answer.model_copy(
                update={"use_count": answer.use_count + more.count, "last_used_at": latest}
            )
        answers.append(answer)
    return answers


async def one_shown(session: AsyncSession, redis: Redis | None, grant: Grant) -> GrantOut:
    return (await shown(session, redis, [grant]))[0]
