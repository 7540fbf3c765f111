"""The tokens whose signature this process has verified, kept by their exact text.

An RS256 check is most of an introspection's own CPU, and a provider checks the same token on
every data call it serves. Whether a token's signature verifies under a set of keys depends on
nothing else, so an entry is exact for as long as its key ring lives (a ring is made once per
process and never changed). Only the signature check and the parsing are kept: the claims (iss,
aud, exp...) are still judged on every call, and revocation and standing as before.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

# Bounded so that a caller sending many distinct tokens costs memory it cannot grow: an entry is
# the token's text and its parsed claims, about 2 KiB, so about 4 MiB at most.
_KEPT = 2048


class VerifiedTokens:
    """A least-recently-used map from a token's text to its header and claims."""

    def __init__(self, size: int = _KEPT) -> None:
        self._size = size
        self._kept: OrderedDict[str, tuple[dict[str, Any], dict[str, Any]]] = OrderedDict()

    def get(self, token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        found = self._kept.get(token)
        if found is not None:
            self._kept.move_to_end(token)
        return found

    def keep(self, token: str, header: dict[str, Any], claims: dict[str, Any]) -> None:
        self._kept[token] = (header, claims)
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)
