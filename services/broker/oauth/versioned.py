"""What a broker process keeps of rows that change rarely, valid for the version in Redis it was
read at (oauth/client_cache.py for the clients, oauth/standing.py for the grants' standing).

A writer of such a row sets the version to a new random value before its commit and again after
it; a reader learns the version in a Redis round trip it already makes, and a process that sees
it moved drops everything it kept. An entry is trusted for `max_age_s` at most, should the set
after a commit never happen (Redis failed just then).
"""

from __future__ import annotations

import secrets
import time
from typing import Generic, TypeVar

from redis.asyncio import Redis

T = TypeVar("T")


async def move_version(redis: Redis, key: str) -> None:
    """Every process drops what it keeps at `key`'s version at its next call. Random rather than
    a counter, so that a Redis that lost its data can never bring back a version a process holds.
    A failure raises: before a commit, the change must not go ahead unseen."""
    await redis.set(key, secrets.token_hex(16))


class VersionedCache(Generic[T]):
    """Values read at one version; any other version (or none known) serves nothing."""

    def __init__(self, *, max_age_s: float, max_entries: int) -> None:
        self._max_age_s = max_age_s
        self._max_entries = max_entries
        self._version: bytes | None = None
        self._values: dict[str, tuple[float, T]] = {}

    def get(self, version: bytes | None, key: str) -> T | None:
        """The value as kept, if kept at `version` (None: the version is not known) and not
        older than the maximum age."""
        if version is None:
            return None
        if version != self._version:
            self._values.clear()
            self._version = version
            return None
        return self.current(key)

    @property
    def version(self) -> bytes | None:
        """The version the values kept were read at (None: none yet)."""
        return self._version

    def current(self, key: str) -> T | None:
        """The value kept at the version last seen, not older than the maximum age, whatever
        the version is now: a guess that the caller confirms with Redis before relying on it."""
        entry = self._values.get(key)
        if entry is None or time.monotonic() - entry[0] >= self._max_age_s:
            return None
        return entry[1]

    def keep(self, version: bytes | None, key: str, value: T) -> None:
        """Keep `value`, read from the database after `version` was read. Not kept if the
        version has moved since (another call saw a newer one): the row may predate it."""
        if version is None or version != self._version:
            return
        if len(self._values) >= self._max_entries:
            self._values.clear()  # many entries at once: start again rather than track age
        self._values[key] = (time.monotonic(), value)
