"""Who calls the fuzzed broker, and what the fuzz run reports (tests/fuzz/)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from broker.oauth.scopes import Scope

FUZZ_SCHEMA = "fuzz"
TALLY = pytest.StashKey[Callable[[], str]]()  # the fuzz run's summary line, once it ran
EVERY_SCOPE = " ".join(scope.value for scope in Scope)

# Who calls, one chosen per generated case: authorised callers most of the time, and callers
# that must be refused (401 without or with a forged token, 403 without the scope).
CALLERS: dict[str, tuple[str, str] | str | None] = {
    "provincial-bureau": ("gd-dsb", EVERY_SCOPE),  # the scheme's widest authority
    "city-department": ("gz-rsj", EVERY_SCOPE),  # an ordinary requester and provider
    "reader-only": ("gz-gaj", Scope.requests_read.value),
    "no-token": None,
    "forged-token": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl",
}


@dataclass(frozen=True)
class FuzzTarget:
    base_url: str
    headers: dict[str, dict[str, str]]  # per caller name
