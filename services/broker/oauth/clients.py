"""Creating and finding OAuth clients. Secrets are shown once and stored only as a hash."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.directory.exceptions import OrganisationNotFound
from broker.directory.models import Organisation
from broker.grants.models import Grant
from broker.kit.clock import utcnow
from broker.kit.ids import new_id
from broker.kit.problems import Problem
from broker.oauth.models import OAuthClient
from broker.oauth.scopes import is_known_scope, parse_scope
from broker.oauth.server import ClientRecord, DataGrant, hash_secret
from broker.requests.models import DataRequest


class UnknownScope(Problem):
    status = 422
    slug = "unknown-scope"
    title = "Unknown scope"


async def create_client(
    session: AsyncSession, *, organisation_id: str, scope: str, name: str | None = None
) -> tuple[OAuthClient, str]:
    if await session.get(Organisation, organisation_id) is None:
        raise OrganisationNotFound(organisation_id)
    unknown = sorted(s for s in parse_scope(scope) if not is_known_scope(s))
    if unknown:
        raise UnknownScope(f"unknown scope(s): {', '.join(unknown)}", field="scope")
    secret = "cs_" + secrets.token_urlsafe(32)
    client = OAuthClient(
        id=new_id("cli"),
        organisation_id=organisation_id,
        name=name or f"{organisation_id} system",
        scope=" ".join(sorted(parse_scope(scope))),
        secret_hash=hash_secret(secret),
    )
    session.add(client)
    await session.flush()
    await audit.record(
        session, "client.created", actor=organisation_id, subject=client.id, scope=client.scope
    )
    return client, secret


async def find_client_record(
    session: AsyncSession, client_id: str, *, dataset_ids: Sequence[str] = ()
) -> ClientRecord | None:
    """The client, with its organisation's active grants for `dataset_ids` (the dataset scopes
    the token request asks for), in one query."""
    now = utcnow()
    query = select(OAuthClient).where(OAuthClient.id == client_id)
    if dataset_ids:
        query = (
            query.add_columns(Grant, DataRequest.trace_id, DataRequest.span_id)
            .outerjoin(
                Grant,
                and_(
                    Grant.grantee_id == OAuthClient.organisation_id,
                    Grant.dataset_id.in_(dataset_ids),
                    Grant.status == "active",
                    Grant.starts_at <= now,
                    Grant.ends_at > now,
                ),
            )
            .outerjoin(DataRequest, DataRequest.id == Grant.request_id)
            .order_by(Grant.ends_at)  # the longest-running grant of a dataset wins below
        )
    rows: list[Any] = list((await session.execute(query)).all())  # add_columns() widens them
    if not rows:
        return None
    client = rows[0][0]
    grants = {
        g.dataset_id: DataGrant(
            grant_id=g.id,
            dataset_id=g.dataset_id,
            fields=tuple(g.fields),
            purpose=g.purpose,
            jurisdiction=g.jurisdiction,
            ends_at=int(g.ends_at.timestamp()),
            request_id=g.request_id,
            request_trace=(trace_id, span_id),
        )
        for _, g, trace_id, span_id in (rows if dataset_ids else [])
        if g is not None
    }
    return ClientRecord(
        client_id=client.id,
        organisation_id=client.organisation_id,
        scope=client.scope,
        secret_hash=client.secret_hash,
        revoked=client.revoked_at is not None,
        grants=grants,
    )
