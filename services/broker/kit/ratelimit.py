"""Per-caller limits kept in Redis, so every replica counts together.

Two tools, each one atomic Lua script per call, and the two together:

- `RateLimiter.hit(bucket, who, rate)`: a fixed window per (bucket, who) that opens at the first
  hit and lasts `rate.per_s`; beyond `rate.limit` hits the answer is the seconds until the window
  closes. A fixed window lets a caller burst up to twice the limit across a boundary; that is
  fine for abuse limits (they bound load, they are not quotas anyone is billed by) and costs one
  key per caller. `hit_unless` is `hit` that counts nothing while one of the keys it is given
  exists, in the same script: a filing's revocation check and its count, one round trip.
- `RateLimiter.locked_for(...)` / `RateLimiter.failed(...)`: failed client authentications.
  `failures.limit` failures within `failures.per_s` lock the key out for `lockout_s`, doubled at
  each further lockout within a day, up to `lockout_max_s`. While locked out the secret is not
  even checked.
- `RateLimiter.admit(...)`: the lockouts of several keys and `hit` in one script, one round trip,
  for the OAuth endpoints, which ask both on every call (whom they count: oauth/lockout.py);
  `admit_and_count` also reads keys and, if the call is admitted and those keys hold what the
  caller expects, counts fields of a hash (introspection's uses: oauth/uses.py).

The scripts themselves, what each reads and answers: kit/limit_scripts.py. They run by their
SHA1, their bodies sent only to a Redis that does not know them yet (kit/scripts.py).

Redis unreachable → the limits fail OPEN (a warning is logged): they protect the broker from
excess, they are not a rule of the domain, and refusing every filing and token because a cache
is down would turn a Redis outage into a total one. Client secrets are 256-bit random values, so
losing the brake on guessing for a while costs nothing. No Redis configured → no limits at all.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.exceptions
from redis.asyncio import Redis

from broker.kit.limit_scripts import ADMIT, FAILED, HIT
from broker.kit.problems import Problem
from broker.kit.scripts import LuaScript
from broker.settings import Rate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CountIf:
    """Fields `admit_and_count` adds one to in the hash `key` (and their latest time, `now_ms`)
    only if it admits the call and each key it reads holds the value `expected` of it (b"-":
    none); `hash_id`: the hash's id if this count makes it."""

    key: str
    expected: Sequence[bytes]
    fields: Sequence[str]
    hash_id: str
    now_ms: int

    def args(self) -> list[bytes | str | int]:
        return [*self.expected, self.hash_id, self.now_ms, *self.fields]


class RateLimited(Problem):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"
    title_zh = "请求过于频繁"
    said_zh = "操作过于频繁，请稍后再试"
    detail_on_pages = False

    def __init__(self, detail: str, retry_after_s: int, *, detail_zh: str) -> None:
        super().__init__(detail, detail_zh=detail_zh, headers={"Retry-After": str(retry_after_s)})


STRIKES_MEMORY_S = 86400  # lockouts grow while the previous one is less than a day old


def _seconds(ms: int) -> int:
    return max(1, math.ceil(ms / 1000))


class RateLimiter:
    def __init__(self, redis: Redis | None, *, prefix: str, timeout_s: float) -> None:
        self.redis = redis
        self.prefix = prefix
        self.timeout_s = timeout_s

    def _key(self, kind: str, bucket: str, who: str) -> str:
        return f"{self.prefix}:{kind}:{bucket}:{{{who}}}"  # braces: one cluster slot per caller

    async def _run(self, script: LuaScript, keys: list[str], *args: Any) -> int:
        assert self.redis is not None
        async with asyncio.timeout(self.timeout_s):
            return int(await script.run(self.redis, len(keys), *keys, *args))

    async def hit(self, bucket: str, who: str, rate: Rate) -> int:
        """Count one event; 0 if it is within the rate, else seconds to wait (Retry-After)."""
        return (await self.hit_unless(bucket, who, rate, ()))[0]

    async def hit_unless(
        self, bucket: str, who: str, rate: Rate, refusing: Sequence[str]
    ) -> tuple[int, bool | None]:
        """`hit`, unless one of the keys `refusing` names exists (a revoked token's: its calls
        use up nobody's allowance), in one round trip: (seconds to wait, whether one exists).
        None for the latter when Redis could not be asked: the limit fails open, and a check
        that must not fail open asks again on its own."""
        if self.redis is None:
            return 0, None
        keys = [self._key("rate", bucket, who), *refusing]
        try:
            ms = await self._run(HIT, keys, rate.limit, int(rate.per_s * 1000))
        except (redis.exceptions.RedisError, TimeoutError, OSError) as exc:
            logger.warning("rate limit %s not enforced, Redis unavailable: %r", bucket, exc)
            return 0, None
        if ms < 0:
            return 0, True
        return (_seconds(ms) if ms else 0), False

    async def locked_for(self, bucket: str, *who: str) -> int:
        """Seconds left of the longest lockout among `who`; 0 when none is locked out."""
        if self.redis is None or not who:
            return 0
        try:
            async with asyncio.timeout(self.timeout_s):
                async with self.redis.pipeline(transaction=False) as pipe:
                    for one in who:
                        pipe.pttl(self._key("lock", bucket, one))
                    left = [int(ms) for ms in await pipe.execute()]
        except (redis.exceptions.RedisError, TimeoutError, OSError) as exc:
            logger.warning("lockouts of %s not checked, Redis unavailable: %r", bucket, exc)
            return 0
        longest = max(left)
        return _seconds(longest) if longest > 0 else 0

    async def admit(
        self, lock_bucket: str, locked: Sequence[str], bucket: str, who: str | None, rate: Rate
    ) -> tuple[tuple[int, ...], int]:
        """The lockouts of `locked` and, if `who` is given, `hit(bucket, who, rate)` in one round
        trip: (the seconds left of each lockout, in the order of `locked`; seconds to wait for
        the rate). Being one script, the hit counts even while a lockout refuses the call."""
        locks, wait_s, *_ = await self.admit_and_count(lock_bucket, locked, bucket, who, rate)
        return locks, wait_s

    async def admit_and_count(
        self,
        lock_bucket: str,
        locked: Sequence[str],
        bucket: str,
        who: str | None,
        rate: Rate,
        exists: Sequence[str] = (),
        read: Sequence[str] = (),
        count: CountIf | None = None,
    ) -> tuple[tuple[int, ...], int, int | None, list[bytes | None] | None, bool]:
        """`admit`, and in the same round trip how many of the keys `exists` names exist (a
        caller's revocation check rides along), the values of the keys `read` names (None
        for a missing key) and whether `count` counted. The count and the values are None
        when Redis could not be asked: the limits fail open, a check that must not fail open
        asks again on its own; nothing is counted then."""
        none = tuple(0 for _ in locked)
        if self.redis is None or not (locked or who or exists or read):
            return none, 0, None, None, False
        keys = [self._key("lock", lock_bucket, one) for one in locked]
        if who:
            keys.append(self._key("rate", bucket, who))
        counting = [count.key] if count else []
        try:
            async with asyncio.timeout(self.timeout_s):
                replies = await ADMIT.run(
                    self.redis,
                    len(keys) + len(exists) + len(read) + len(counting),
                    *keys,
                    *exists,
                    *read,
                    *counting,
                    len(locked),
                    1 if who else 0,
                    len(exists),
                    rate.limit,
                    int(rate.per_s * 1000),
                    len(count.fields) if count else 0,
                    *(count.args() if count else ()),
                )
        except (redis.exceptions.RedisError, TimeoutError, OSError) as exc:
            logger.warning("limits of %s not enforced, Redis unavailable: %r", bucket, exc)
            return none, 0, None, None, False
        answers = [int(answer) for answer in replies[: len(keys) + (1 if exists else 0)]]
        locks = tuple(_seconds(ms) if ms > 0 else 0 for ms in answers[: len(locked)])
        wait_ms = answers[len(locked)] if who else 0
        existing = answers[-1] if exists else None
        # A missing key: Lua's false, which reaches a RESP2 client as None, a RESP3 one as False.
        read_values = replies[len(answers) : len(answers) + len(read)]
        values = [None if v is None or v is False else v for v in read_values]
        counted = bool(count) and int(replies[-1]) == 1
        wait_s = _seconds(wait_ms) if wait_ms else 0
        return locks, wait_s, existing, values if read else None, counted

    async def failed(
        self,
        bucket: str,
        who: str,
        failures: Rate,
        *,
        lockout_s: float,
        lockout_max_s: float,
    ) -> int:
        """Count one failure of `who`; the seconds of the lockout it started, else 0."""
        if self.redis is None:
            return 0
        keys = [self._key(kind, bucket, who) for kind in ("failures", "lock", "strikes")]
        try:
            ms = await self._run(
                FAILED,
                keys,
                failures.limit,
                int(failures.per_s * 1000),
                max(1, int(lockout_s * 1000)),
                max(1, int(lockout_max_s * 1000)),
                STRIKES_MEMORY_S * 1000,
            )
        except (redis.exceptions.RedisError, TimeoutError, OSError) as exc:
            logger.warning("failure of %s not counted, Redis unavailable: %r", bucket, exc)
            return 0
        if ms:
            logger.warning("%s: %s locked out for %.1fs after failures", bucket, who, ms / 1000)
        return _seconds(ms) if ms else 0
