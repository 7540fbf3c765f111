"""The province's unified sign-on (统一身份认证) trusted for people's sign-in: the broker as a
relying party of an upstream OpenID Connect provider (OIDC_UPSTREAM_*).

- The authorization code flow with PKCE S256, a `state` that binds the answer to the browser
  that left (the console keeps the flow in an encrypted cookie of a few minutes) and a `nonce`
  that binds the ID token to that flow.
- The provider's metadata comes from its discovery document, fetched once per process; its
  `issuer` must be OIDC_UPSTREAM_ISSUER exactly (OpenID Connect Discovery 1.0, section 4.3), so
  a document that names another issuer is not believed.
- The ID token is verified with the provider's JWKS through `ExternalIssuer` (oauth/external.py:
  its cache, its refetch limits): signature, `iss`, `aud` (our client id), `exp`, then `nonce`.
  The person is the one whose username is the value of the claim OIDC_UPSTREAM_CLAIM. No person,
  no sign-in: the bureau creates people (`cdo-broker person create`); the provider only vouches
  for who is at the keyboard, second factor included, so the console asks for no one-time code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from broker.oauth.external import ExternalIssuer, ExternalKeysUnavailable, ExternalTokenRefused
from broker.settings import BrokerSettings

FLOW_LIFETIME_S = 600  # from leaving for the provider to coming back


class UpstreamRefused(Exception):
    """The provider's answer is not a sign-in; the message says why, for the log."""


@dataclass(frozen=True)
class Flow:
    """One sign-in through the provider, as the browser keeps it between leaving and coming
    back: never shown to the provider but `state`, `nonce` and the verifier's challenge."""

    state: str
    nonce: str
    verifier: str
    next_url: str
    started_at: float

    @classmethod
    def start(cls, next_url: str) -> Flow:
        return cls(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48),  # 64 characters: RFC 7636 asks 43 to 128
            next_url=next_url,
            started_at=time.time(),
        )

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def dumps(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def loads(cls, text: str) -> Flow:
        return cls(**json.loads(text))

    def expired(self, now: float) -> bool:
        return not 0 <= now - self.started_at <= FLOW_LIFETIME_S


@dataclass
class UpstreamProvider:
    issuer: str
    client_id: str
    client_secret: str
    claim: str
    scope: str
    redirect_uri: str
    timeout_s: float
    _metadata: dict[str, Any] | None = None
    _id_tokens: ExternalIssuer | None = field(default=None, repr=False)

    @classmethod
    def of(cls, settings: BrokerSettings) -> UpstreamProvider | None:
        if not settings.oidc_upstream_issuer:
            return None
        return cls(
            issuer=settings.oidc_upstream_issuer.rstrip("/"),
            client_id=settings.oidc_upstream_client_id or "",
            client_secret=settings.oidc_upstream_client_secret or "",
            claim=settings.oidc_upstream_claim,
            scope=settings.oidc_upstream_scope,
            redirect_uri=f"{settings.console_base}/signin/upstream/callback",
            timeout_s=max(settings.dependency_timeout_seconds, 5.0),
        )

    async def _discovered(self) -> dict[str, Any]:
        if self._metadata is None:
            url = f"{self.issuer}/.well-known/openid-configuration"
            try:
                async with httpx.AsyncClient(timeout=self.timeout_s, trust_env=False) as http:
                    answer = await http.get(url)
                    answer.raise_for_status()
                    metadata: dict[str, Any] = answer.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise UpstreamRefused(f"the provider's discovery document: {exc!r}") from exc
            if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
                raise UpstreamRefused(f"the discovery document names {metadata.get('issuer')!r}")
            self._metadata = metadata
        return self._metadata

    async def authorization_url(self, flow: Flow) -> str:
        metadata = await self._discovered()
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": flow.state,
            "nonce": flow.nonce,
            "code_challenge": flow.challenge,
            "code_challenge_method": "S256",
        }
        return f"{metadata['authorization_endpoint']}?{urlencode(query)}"

    async def username_of(self, code: str, flow: Flow) -> str:
        """Exchanges `code` (with the flow's verifier) and verifies the ID token; the value of
        the claim that names the person."""
        metadata = await self._discovered()
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, trust_env=False) as http:
                answer = await http.post(
                    metadata["token_endpoint"],
                    auth=(self.client_id, self.client_secret),
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": self.redirect_uri,
                        "code_verifier": flow.verifier,
                    },
                )
            tokens = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise UpstreamRefused(f"the token endpoint: {exc!r}") from exc
        if answer.status_code != 200 or not isinstance(tokens.get("id_token"), str):
            raise UpstreamRefused(f"the token endpoint answered {answer.status_code}: {tokens!r}")
        if self._id_tokens is None:
            self._id_tokens = ExternalIssuer(
                self.issuer, metadata["jwks_uri"], self.claim, self.client_id
            )
        try:
            claims = await self._id_tokens.verify(tokens["id_token"])
        except (ExternalTokenRefused, ExternalKeysUnavailable) as exc:
            raise UpstreamRefused(f"the ID token: {exc}") from exc
        if not secrets.compare_digest(str(claims.get("nonce", "")), flow.nonce):
            raise UpstreamRefused("the ID token's nonce is not this sign-in's")
        return str(claims[self.claim])
