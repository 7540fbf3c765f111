"""Creating and finding OAuth clients. Secrets are shown once and stored only as a hash."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import SYSTEM, Actor
from broker.kit.problems import OrganisationNotFound
from broker.oauth import repository, revocation
from broker.oauth.client_cache import clients_changed
from broker.oauth.exceptions import ClientNotFound, InvalidRedirectUri, UnknownScope
from broker.oauth.repository import TracedGrant
from broker.oauth.scopes import is_known_scope, parse_scope
from broker.oauth.server import ClientRecord, DataGrant, hash_secret
from core.clock import utcnow
from core.ids import new_id
from core.models.directory import Organisation
from core.models.oauth import OAuthClient


async def create_client(
    session: AsyncSession,
    *,
    organisation_id: str,
    scope: str,
    name: str | None = None,
    redirect_uris: Sequence[str] = (),
    actor: Actor = SYSTEM,
) -> tuple[OAuthClient, str]:
    """A new client of `organisation_id`. `actor`: who creates it (SYSTEM: an operator at the
    command line, or the seed). With `redirect_uris` it also signs people in (authorization
    code with PKCE; oauth/oidc.py)."""
    if await session.get(Organisation, organisation_id) is None:
        raise OrganisationNotFound(organisation_id)
    unknown = sorted(s for s in parse_scope(scope) if not is_known_scope(s))
    if unknown:
        raise UnknownScope(unknown)
    secret = "cs_" + secrets.token_urlsafe(32)
    client = OAuthClient(
        id=new_id("cli"),
        organisation_id=organisation_id,
        name=name or f"{organisation_id} system",
        scope=" ".join(sorted(parse_scope(scope))),
        secret_hash=hash_secret(secret),
        redirect_uris=" ".join(_vetted_redirects(redirect_uris)) or None,
    )
    session.add(client)
    await session.flush()
    await audit.record(
        session, "client.created", actor=actor, subject=client.id,
        organisation=organisation_id, scope=client.scope,
    )  # fmt: skip
    return client, secret


def _vetted_redirects(uris: Sequence[str]) -> list[str]:
    """Absolute https URIs without a fragment (http only on a loopback host, RFC 8252 7.3)."""
    for uri in uris:
        parts = urlsplit(uri)
        loopback = parts.hostname in ("127.0.0.1", "::1", "localhost")
        if (
            parts.fragment
            or not parts.hostname
            or not (parts.scheme == "https" or (parts.scheme == "http" and loopback))
        ):
            raise InvalidRedirectUri(uri)
    return list(uris)


async def revoke_client(
    session: AsyncSession,
    client_id: str,
    *,
    redis: Redis | None,
    token_ttl_seconds: int,
    actor: Actor = SYSTEM,
) -> OAuthClient:
    """Disables a client: no new tokens (the token endpoint reads `revoked_at`, and the
    revocation in Redis), and the tokens it holds stop working on the API at once (the
    revocation set in Redis, which the API checks in the same round trip as the token's own
    revocation). Redis is written before the commit: a failure after it refuses a client that
    is still live, never the other way round. The edge that commits calls `clients_changed`
    again after the commit (oauth/client_cache.py)."""
    client = await repository.locked_client(session, client_id)
    if client is None:
        raise ClientNotFound(client_id)
    if client.revoked_at is not None:
        return client
    client.revoked_at = utcnow()
    await session.flush()
    await audit.record(
        session, "client.revoked", actor=actor, subject=client.id,
        organisation=client.organisation_id,
    )  # fmt: skip
    await revocation.revoke_client(redis, client.id, seconds_left=token_ttl_seconds)
    await clients_changed(redis)
    return client


async def find_client_record(
    session: AsyncSession,
    client_id: str,
    *,
    dataset_ids: Sequence[str] = (),
    known: ClientRecord | None = None,
) -> ClientRecord | None:
    """The client, with its organisation's active grants for `dataset_ids` (the dataset scopes
    the token request asks for), in one query; with the client `known` (oauth/client_cache.py),
    only its grants are read, and only if a dataset is asked for."""
    if known is not None:
        if not dataset_ids:
            return known
        granted = await repository.grants_in_force(
            session, known.organisation_id, dataset_ids, now=utcnow()
        )
        return replace(known, grants=data_grants(granted))
    found = await repository.client_with_grants(session, client_id, dataset_ids, now=utcnow())
    if found is None:
        return None
    client, granted = found
    return ClientRecord(
        client_id=client.id,
        organisation_id=client.organisation_id,
        scope=client.scope,
        secret_hash=client.secret_hash,
        revoked=client.revoked_at is not None,
        redirect_uris=tuple((client.redirect_uris or "").split()),
        grants=data_grants(granted),
    )


def data_grants(granted: Sequence[TracedGrant]) -> dict[str, DataGrant]:
    return {
        g.dataset_id: DataGrant(
            grant_id=g.id,
            dataset_id=g.dataset_id,
            fields=tuple(g.fields),
            purpose=g.purpose,
            jurisdiction=g.jurisdiction,
            ends_at=int(g.ends_at.timestamp()),
            request_id=g.request_id,
            request_trace=(g.trace_id, g.span_id),
        )
        for g in granted  # longest-running last: each dataset keeps it
    }
