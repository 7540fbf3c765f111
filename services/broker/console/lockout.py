"""Failed console sign-ins, counted as the OAuth endpoints count failed client authentications
(oauth/lockout.py says why so; kit/ratelimit.py does the counting, in Redis).

- Failures are counted per (username, address): AUTH_FAILURE_LIMIT of them lock that pair out
  for AUTH_LOCKOUT seconds, doubling at each further lockout up to AUTH_LOCKOUT_MAX. While a
  pair is locked its password is not even checked. Someone elsewhere who types a person's
  username with wrong passwords locks out only themself; the person, at their own desk, goes on.
- Unknown usernames count exactly as known ones do, so the lockout tells no one which usernames
  exist.
- Sign-in attempts from one address are limited to RATE_LIMIT_SIGNIN, whatever the usernames:
  the brake on trying one password on many usernames. It counts attempts, not failures, so it
  binds only a flood, which no office behind one address sends.

Behind a proxy set FORWARDED_ALLOW_IPS, so that each person is known by their own address.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from broker.kit.ratelimit import RateLimiter
from broker.settings import BrokerSettings, Rate

SIGN_IN_FAILURES = "signin-failures"
SIGN_INS = "signin"


@dataclass(frozen=True)
class Attempt:
    """Who tries to sign in: the username typed (not yet proven) and the address it comes from."""

    username: str
    address: str

    @classmethod
    def of(cls, request: Request, username: str) -> Attempt:
        host = request.client.host if request.client is not None else None
        return cls(username.strip().casefold(), host or "unknown")

    @property
    def pair(self) -> str:
        return f"{self.username}@{self.address}"


async def wait_before(limiter: RateLimiter, settings: BrokerSettings, attempt: Attempt) -> int:
    """0 when the attempt may go on; else the seconds to wait (the pair is locked out, or the
    address is over its rate). One Redis round trip, counting the attempt against the rate."""
    rate = Rate.parse(settings.rate_limit_signin)
    (locked_s,), wait_s = await limiter.admit(
        SIGN_IN_FAILURES, [attempt.pair], SIGN_INS, attempt.address, rate
    )
    return max(locked_s, wait_s)


async def count_failure(limiter: RateLimiter, settings: BrokerSettings, attempt: Attempt) -> int:
    """Count a failed sign-in; the seconds of the lockout it started, else 0."""
    return await limiter.failed(
        SIGN_IN_FAILURES,
        attempt.pair,
        Rate.parse(settings.auth_failure_limit),
        lockout_s=settings.auth_lockout_seconds,
        lockout_max_s=settings.auth_lockout_max_seconds,
    )
