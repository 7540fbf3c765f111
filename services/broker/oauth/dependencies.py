"""The authorization server's resources, made by the lifespan (app.py), as typed dependencies:
the signing keys, the trusted external issuer, authlib's server, the unified sign-on, the
OAuth clients and the tokens' standing kept
(kit/deps.py says how)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from broker.kit.deps import AppResource
from broker.oauth.client_cache import ClientCache
from broker.oauth.external import ExternalIssuer
from broker.oauth.keys import KeyRing
from broker.oauth.server import BrokerAuthorizationServer
from broker.oauth.standing import StandingCache
from broker.oauth.upstream import UpstreamProvider

KEYRING = AppResource[KeyRing]("keyring")
EXTERNAL_ISSUER = AppResource[ExternalIssuer | None]("external_issuer")  # None: none trusted
AUTHORIZATION_SERVER = AppResource[BrokerAuthorizationServer]("authorization_server")
UPSTREAM = AppResource[UpstreamProvider | None]("upstream")  # None: no unified sign-on
CLIENT_CACHE = AppResource[ClientCache]("client_cache")  # the OAuth clients this process read
STANDING_CACHE = AppResource[StandingCache]("standing_cache")  # tokens' standing, as read

KeyRingDep = Annotated[KeyRing, Depends(KEYRING.provide)]
ExternalIssuerDep = Annotated[ExternalIssuer | None, Depends(EXTERNAL_ISSUER.provide)]
AuthorizationServerDep = Annotated[BrokerAuthorizationServer, Depends(AUTHORIZATION_SERVER.provide)]
UpstreamDep = Annotated[UpstreamProvider | None, Depends(UPSTREAM.provide)]
