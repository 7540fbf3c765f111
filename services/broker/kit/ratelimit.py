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

The scripts run by their SHA1, their bodies sent only to a Redis that does not know them yet
(kit/scripts.py).

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


# KEYS: window, then keys that refuse the call if any exists. ARGV: limit, window ms. → -1 if
# one of those exists (nothing counted), else 0 if admitted, else ms until the window closes.
_HIT = LuaScript(
    """
if #KEYS > 1 and redis.call('EXISTS', unpack(KEYS, 2)) > 0 then return -1 end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n <= tonumber(ARGV[1]) then return 0 end
return math.max(redis.call('PTTL', KEYS[1]), 1)
"""
)

# KEYS: failures, lock, strikes. ARGV: limit, window ms, lockout ms, cap ms, strikes ttl ms.
# → 0, or the ms of the lockout this failure started.
_FAILED = LuaScript(
    """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n < tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
local strikes = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
local ms = tonumber(ARGV[3]) * 2 ^ math.min(strikes - 1, 40)
ms = math.floor(math.min(ms, tonumber(ARGV[4])))
redis.call('SET', KEYS[2], '1', 'PX', ms)
return ms
"""
)

# KEYS: ARGV[1] lockouts, then a window if ARGV[2] is 1, then ARGV[3] keys to count, then keys
# to read, then a hash if ARGV[6] > 0. ARGV: those three, the window's limit and ms, how many
# fields to count (ARGV[6]), then (if any) the value expected of each key read ('-': none), the
# hash's id, the time in ms and the fields. → each lockout's PTTL, the window's answer as _HIT's,
# how many of the keys to count exist, each key read's value (false: none), then if fields were
# given 1 if they were counted (no lockout, within the rate, none of the keys existing, each key
# read as expected), else 0. Each field `f` counted adds 1 to `n:f` and keeps the latest time in
# `t:f`; the hash's `id` is set by the first count that makes it.
_ADMIT = LuaScript(
    """
local locks, windows, counted = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local counting = tonumber(ARGV[6])
local out, admitted = {}, true
for i = 1, locks do
  out[i] = redis.call('PTTL', KEYS[i])
  if out[i] > 0 then admitted = false end
end
local k = locks + 1
if windows == 1 then
  local n = redis.call('INCR', KEYS[k])
  if n == 1 then redis.call('PEXPIRE', KEYS[k], ARGV[5]) end
  if n <= tonumber(ARGV[4]) then out[#out + 1] = 0
  else out[#out + 1] = math.max(redis.call('PTTL', KEYS[k]), 1); admitted = false end
  k = k + 1
end
if counted > 0 then
  local found = redis.call('EXISTS', unpack(KEYS, k, k + counted - 1))
  out[#out + 1] = found
  if found > 0 then admitted = false end
  k = k + counted
end
local last, a = #KEYS, 7
if counting > 0 then last = last - 1 end
for i = k, last do
  local value = redis.call('GET', KEYS[i])
  out[#out + 1] = value
  if counting > 0 then
    if (value or '-') ~= ARGV[a] then admitted = false end
    a = a + 1
  end
end
if counting > 0 then
  if not admitted then out[#out + 1] = 0; return out end
  local hash, now = KEYS[#KEYS], tonumber(ARGV[a + 1])
  redis.call('HSETNX', hash, 'id', ARGV[a])
  for j = a + 2, a + 1 + counting do
    redis.call('HINCRBY', hash, 'n:' .. ARGV[j], 1)
    if now > tonumber(redis.call('HGET', hash, 't:' .. ARGV[j]) or '0') then
      redis.call('HSET', hash, 't:' .. ARGV[j], now)
    end
  end
  out[#out + 1] = 1
end
return out
"""
)

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
            ms = await self._run(_HIT, keys, rate.limit, int(rate.per_s * 1000))
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
                replies = await _ADMIT.run(
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
                _FAILED,
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
