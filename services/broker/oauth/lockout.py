"""Failed client authentications and the token rates, counted so that no outsider can aim them
at someone else.

A client id is no secret (it is in every token the client ever used), and a caller's address
may be shared (a NAT, a proxy). So:

- Failures are counted per (client id, address) pair: AUTH_FAILURE_LIMIT of them lock that pair,
  not the client. Someone elsewhere who sends a client's id with wrong secrets locks out only
  themself; the client, from its own address, goes on. While a pair is locked its secret
  decides nothing: it is not checked, but for an introspection by a client this process keeps
  (oauth/introspection.py), checked before the admission only to decide whether to count a use,
  and the locked-out caller gets the lockout's answer, with nothing counted.
- Failures that name no known client (an unknown id, or none) are counted per address:
  AUTH_FAILURE_LIMIT_ADDRESS of them lock the address for unknown ids only. A flood of random
  ids through one proxy address locks out none of the known clients behind it.
- The per-client rates (RATE_LIMIT_TOKEN, RATE_LIMIT_INTROSPECT) count per (client id, address)
  too, so no one else can use up a client's allowance; a client running from several addresses
  gets the allowance at each.

What remains: callers at one address share its pairs, so one who knows a client id and shares
its address (behind a proxy the broker does not trust, every caller has the proxy's address)
can still lock that client out there: set FORWARDED_ALLOW_IPS to the proxies' addresses so that
each caller is known by its own (README, "Behind a proxy"). Guessing is bounded per address (at
most AUTH_FAILURE_LIMIT guesses per known id and window) and not across many addresses; that is
fine for secrets of 256 random bits, which no one guesses. A failure is slowed by the lockout
alone, not by a sleep: a sleep holds a connection per failure (helping a flood) and does nothing
against parallel guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse

from broker.kit.ratelimit import CountIf, RateLimiter
from broker.oauth import revocation, standing
from broker.oauth.client_cache import MISSING, VERSION_KEY
from broker.settings import BrokerSettings, Rate

AUTH_FAILURES = "auth-failures"


def too_many(retry_after_s: int, why: str) -> JSONResponse:
    """A 429 at the OAuth endpoints stays OAuth-shaped (RFC 6749 section 5.2: `error`,
    `error_description`), as their other errors are, so OAuth client libraries report it; the
    status and `Retry-After` say the same as the JSON API's `rate-limited` problem. RFC 6749
    defines no code for it, hence `too_many_requests` (`slow_down` means "poll less often" in the
    device flow, a different thing)."""
    return JSONResponse(
        {"error": "too_many_requests", "error_description": why},
        status_code=429,
        headers={"Retry-After": str(retry_after_s), "Cache-Control": "no-store"},
    )


@dataclass(frozen=True)
class Caller:
    """Who asks: the client id claimed (not yet proven) and the address it comes from."""

    client_id: str | None
    address: str

    @classmethod
    def of(cls, request: Request, client_id: str | None) -> Caller:
        host = request.client.host if request.client is not None else None
        return cls(client_id, host or "unknown")

    @property
    def pair(self) -> str | None:
        return f"{self.client_id}@{self.address}" if self.client_id else None

    @property
    def unknown_ids_from(self) -> str:
        return f"unknown@{self.address}"


@dataclass(frozen=True)
class Admission:
    pair_locked_s: int
    address_locked_s: int
    wait_s: int
    rate: str
    existing: int | None = None  # of the keys `admit` was asked about; None: not known
    clients_version: bytes | None = None  # oauth/client_cache.py; None: not known
    grants_version: bytes | None = None  # oauth/standing.py, if asked; None: not known
    caller_revoked: bool = False  # the claimed client's revocation is in Redis
    counted: bool = False  # `admit`'s `count` was counted (oauth/uses.py)

    def refusal(self) -> JSONResponse | None:
        """Before the client is looked up: its pair is locked out, or over its rate."""
        if self.pair_locked_s:
            why = "too many failed authentications of this client from this address; retry later"
            return too_many(self.pair_locked_s, why)
        if self.wait_s:
            return too_many(
                self.wait_s, f"more than {self.rate} requests for this client; retry later"
            )
        return None

    def refusal_of_unknown(self) -> JSONResponse | None:
        """For a caller that names no known client: its address is locked out for those."""
        if self.address_locked_s:
            why = "too many failed authentications from this address; retry later"
            return too_many(self.address_locked_s, why)
        return None


async def admit(
    limiter: RateLimiter,
    caller: Caller,
    bucket: str,
    rate: str,
    exists: Sequence[str] = (),
    *,
    grants_version: bool = False,
    count: CountIf | None = None,
) -> Admission:
    """One Redis round trip: the caller's lockouts, one hit on its rate in `bucket`, how many of
    the keys `exists` names exist (introspection's revocation check), the clients' version and
    whether the claimed client is revoked (oauth/client_cache.py), and if asked the grants'
    version (introspection, oauth/standing.py), counting `count` if the call is admitted and
    what is read is as it expects (oauth/uses.py)."""
    locks = [caller.unknown_ids_from, *([caller.pair] if caller.pair else [])]
    read = [VERSION_KEY, revocation.client_key(caller.client_id)] if caller.client_id else []
    if read and grants_version:
        read.append(standing.VERSION_KEY)
    (address_s, *pair_s), wait_s, existing, values, counted = await limiter.admit_and_count(
        AUTH_FAILURES, locks, bucket, caller.pair, Rate.parse(rate), exists, read, count
    )
    version, revoked, grants = (*(values or ()), None, None, None)[:3]
    return Admission(
        pair_s[0] if pair_s else 0,
        address_s,
        wait_s,
        rate,
        existing,
        clients_version=None if values is None else version or MISSING,
        caller_revoked=revoked is not None,
        grants_version=None if values is None or not grants_version else grants or MISSING,
        counted=counted,
    )


async def count_failure(
    limiter: RateLimiter, settings: BrokerSettings, caller: Caller, *, known: bool
) -> None:
    """A failed authentication: against the pair if the client exists, else the address."""
    who, limit = (
        (caller.pair, settings.auth_failure_limit)
        if known and caller.pair
        else (caller.unknown_ids_from, settings.auth_failure_limit_address)
    )
    await limiter.failed(
        AUTH_FAILURES,
        who,
        Rate.parse(limit),
        lockout_s=settings.auth_lockout_seconds,
        lockout_max_s=settings.auth_lockout_max_seconds,
    )
