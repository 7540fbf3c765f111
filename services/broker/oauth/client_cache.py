"""Each broker process keeps the OAuth clients it has authenticated, so that a token or an
introspection does not look its client up in the database on every call.

A client's row changes only through the broker (`oauth/clients.py`: created, revoked). Every
change sets the clients' version in Redis to a new random value, before its commit and again
after it; every token, introspection and revocation call reads that version in the Redis
round trip it already makes to admit the caller (`oauth/lockout.py`), and a process that sees it
moved drops everything it kept. So another replica's change is seen on the next call, without a
round trip more. The value is random rather than a counter so that a Redis that lost its data
and counted again can never bring back a version a process still holds.

The same round trip reads whether the caller's client is revoked (`oauth/revocation.py`, set
before the revocation commits): a revoked client is refused at once even in the moment between
the commit and the version set after it. If that second set never happens (Redis failed just
then), an entry is trusted for `MAX_AGE_S` at most, less than the revocation key lives (the
access token lifetime, at least 60 s). Redis not answering, or not configured: no version is
known and the client is read from the database, never from here. The secret is checked on every
call against the kept hash, as against the row.
"""

from __future__ import annotations

from dataclasses import replace

from redis.asyncio import Redis

from broker.oauth.server import ClientRecord
from broker.oauth.versioned import VersionedCache, move_version

VERSION_KEY = "cdo:oauth-clients:version"
MISSING = b"-"  # the version while no change has set one (a fresh or emptied Redis)
MAX_AGE_S = 30.0
MAX_ENTRIES = 10_000


async def clients_changed(redis: Redis | None) -> None:
    """Every process drops the clients it keeps at its next call. A failure raises: before a
    commit, the change must not go ahead unseen."""
    if redis is not None:
        await move_version(redis, VERSION_KEY)


class ClientCache(VersionedCache[ClientRecord]):
    """The clients one process has read, valid for the clients' version they were read at."""

    def __init__(self, *, max_age_s: float = MAX_AGE_S, max_entries: int = MAX_ENTRIES) -> None:
        super().__init__(max_age_s=max_age_s, max_entries=max_entries)

    def put(self, version: bytes | None, record: ClientRecord) -> None:
        """Keep `record` (without the grants a token request read with it)."""
        self.keep(version, record.client_id, replace(record, grants={}))
