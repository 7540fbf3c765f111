"""A grant token as its holder sees it: the bearer string and what it grants."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from cdo_broker_client.tokens import Token


class DataGrant(BaseModel):
    """The RFC 9396 `authorization_details` entry of type `data_grant` a grant token carries."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str
    grant_id: str
    dataset_id: str
    fields: tuple[str, ...]
    purpose: str
    jurisdiction: str | None = None


def unverified_claims(access_token: str) -> dict[str, Any]:
    """The token's claims, NOT verified: for its holder's own information only. A provider
    verifies with `GrantGuard` (or the JWKS), never with this."""
    payload = access_token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


@dataclass(frozen=True)
class GrantToken:
    access_token: str
    expires_at: float  # unix seconds, no later than the grant's end
    grant: DataGrant

    @classmethod
    def from_token(cls, token: Token) -> GrantToken:
        details = unverified_claims(token.access_token).get("authorization_details") or []
        grant = next(DataGrant.model_validate(d) for d in details if d.get("type") == "data_grant")
        return cls(token.access_token, token.expires_at, grant)

    @property
    def authorization(self) -> dict[str, str]:
        """The header to send to the provider's API."""
        return {"Authorization": f"Bearer {self.access_token}"}
