"""Each broker process keeps the standing of the tokens it has introspected (whether the token's
client stands and its grants are active, and the window they are all in force together), so
that an introspection does not read it from the database on every call.

A grant's status or window changes only in a transaction that writes its change row
(`grants/service.grant_event`: paused, resumed, revoked, expired, widened by an appeal). Each
such transaction sets the grants' version in Redis (`VERSION_KEY`) to a new random value before
its commit (`grants_changing`, awaited by the writer: a failure fails the write, which must not
go ahead unseen) and again once it has committed (`after_commit`, awaited inside the commit, so
before the writer answers). A new grant moves nothing: no token carrying it can have been
introspected yet. The introspection's one Redis script (oauth/lockout.py) reads this version
with the clients' version (a client's revocation moves that one, oauth/client_cache.py), and an
entry serves only while both are what they were when it was read. So a pause or a revocation
committed on any replica is refused by every replica from the call after the writer answers.

The same guards as the clients' copy: a version read between the first set and the commit may
keep a standing read before the commit, which the set after the commit drops; if that second set
fails, an entry is trusted for `MAX_AGE_S` at most. Redis not answering, or not configured: no
version is known, nothing is kept or served, and the introspection's one statement reads the
standing afresh as before. A writer moves the version in the Redis its session carries: the
broker app's sessions carry the app's (`REDIS_INFO`, app.py); a session without one (a command,
a test's own) moves nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import redis.exceptions
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from broker.oauth.versioned import VersionedCache, move_version

logger = logging.getLogger(__name__)

VERSION_KEY = "cdo:grants:version"
MAX_AGE_S = 30.0
MAX_ENTRIES = 10_000
_MOVED = "broker.oauth.standing-moved"  # session.info: moved before this transaction commits
REDIS_INFO = "grants_version_redis"  # a session's Redis: `create_sessionmaker(engine, **{...})`


@dataclass(frozen=True)
class Standing:
    """A token's client not revoked and each of its grants active (`stands`), and the window in
    which all of those grants are in force (None: no grant bounds it on that side)."""

    stands: bool
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def in_force(self, now: datetime) -> bool:
        return (
            self.stands
            and (self.starts_at is None or self.starts_at <= now)
            and (self.ends_at is None or now < self.ends_at)
        )


class StandingCache(VersionedCache[Standing]):
    """The standings one process has read, valid for the versions they were read at."""

    def __init__(self, *, max_age_s: float = MAX_AGE_S, max_entries: int = MAX_ENTRIES) -> None:
        super().__init__(max_age_s=max_age_s, max_entries=max_entries)

    @staticmethod
    def key(client_id: str, grant_ids: set[str]) -> str:
        return " ".join([client_id, *sorted(grant_ids)])


def versions(clients_version: bytes | None, grants_version: bytes | None) -> bytes | None:
    """What a standing is kept at: both versions, or None if either is not known."""
    if clients_version is None or grants_version is None:
        return None
    return clients_version + b" " + grants_version


async def grants_changing(session: AsyncSession) -> None:
    """Called by a writer of a grant's status or window before its transaction commits: every
    process drops the standings it keeps, now and once more after the commit. A failure raises:
    the change must not commit unseen."""
    redis = session.info.get(REDIS_INFO)
    if redis is None or session.info.get(_MOVED):
        return
    await move_version(redis, VERSION_KEY)
    session.info[_MOVED] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_MOVED, False):
        try:  # inside AsyncSession.commit's greenlet: awaited before the commit returns
            await_only(move_version(session.info[REDIS_INFO], VERSION_KEY))
        except (redis.exceptions.RedisError, TimeoutError, OSError) as exc:
            logger.warning("grants' version not moved after a commit: %r", exc)


def _after_rollback(session: Session) -> None:
    session.info.pop(_MOVED, None)


# Every session's commit and rollback: a dictionary lookup for those that moved nothing.
event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_rollback", _after_rollback)
