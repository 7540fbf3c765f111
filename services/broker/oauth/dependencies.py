"""The authorization server's resources, made by the lifespan (app.py), as typed dependencies:
the signing keys, the trusted external issuer and authlib's server (kit/deps.py says how)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from broker.kit.deps import AppResource
from broker.oauth.external import ExternalIssuer
from broker.oauth.keys import KeyRing
from broker.oauth.server import BrokerAuthorizationServer

KEYRING = AppResource[KeyRing]("keyring")
EXTERNAL_ISSUER = AppResource[ExternalIssuer | None]("external_issuer")  # None: none trusted
AUTHORIZATION_SERVER = AppResource[BrokerAuthorizationServer]("authorization_server")

KeyRingDep = Annotated[KeyRing, Depends(KEYRING.provide)]
ExternalIssuerDep = Annotated[ExternalIssuer | None, Depends(EXTERNAL_ISSUER.provide)]
AuthorizationServerDep = Annotated[BrokerAuthorizationServer, Depends(AUTHORIZATION_SERVER.provide)]
