"""What the token and revocation endpoints do (and introspection, oauth/introspection.py, with
what this module offers): admit the caller (rate limits and lockouts), authenticate its client
with authlib, then issue or revoke a token.

Each call's round trips are counted and kept few (docs/BENCHMARKS.md, `bench/tokens`): one Redis
script admits the caller, reads the clients' version (the authenticating client then comes from
the process's copy, oauth/client_cache.py, read from the database only when the version moved or
Redis did not answer) and, for an introspection, asks whether the token or its client is
revoked; a client-credentials token is then one audit append (a grant token one query of its
grants more); an introspection usually nothing more (oauth/introspection.py).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import unquote

from authlib.oauth2 import OAuth2Error
from fastapi import Request
from fastapi.responses import Response
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.kit.problems import ServiceUnavailable, Unauthorized
from broker.kit.ratelimit import RateLimiter
from broker.kit.tracing import follow_request
from broker.oauth import repository, revocation, standing
from broker.oauth.client_cache import ClientCache
from broker.oauth.clients import data_grants, find_client_record
from broker.oauth.keys import KeyRing
from broker.oauth.lockout import Admission, Caller, admit, count_failure
from broker.oauth.oidc import sign_in_state
from broker.oauth.oidc_state import held_sign_in
from broker.oauth.principal import decode_access_token
from broker.oauth.scopes import DATASET_SCOPE, parse_scope
from broker.oauth.server import (
    TOKEN_AUTH_METHODS,
    AuthlibClient,
    BrokerAuthorizationServer,
    ClientRecord,
    StarletteOAuth2Request,
    no_grant,
    preloaded_client,
)
from broker.settings import BrokerSettings
from core.clock import utcnow
from core.metrics import instruments


@dataclass(frozen=True)
class Gate:
    """What the token, introspection and revocation endpoints check a client with."""

    settings: BrokerSettings
    limiter: RateLimiter
    server: BrokerAuthorizationServer
    clients: ClientCache
    standings: standing.StandingCache


def client_id_of(authorization: str | None, form: dict[str, str]) -> str | None:
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id = unquote(decoded.partition(":")[0])
    else:
        client_id = form.get("client_id", "")
    # NUL cannot be in a client id, and PostgreSQL refuses to look one up: an unknown client
    return client_id if client_id and "\x00" not in client_id else None


@dataclass(frozen=True)
class Call:
    """A call to the token, introspection or revocation endpoint, and who makes it."""

    request: Request
    form: dict[str, str]
    gate: Gate
    caller: Caller

    @classmethod
    def of(cls, request: Request, form: dict[str, str], gate: Gate) -> Call:
        client_id = client_id_of(request.headers.get("authorization"), form)
        return cls(request, form, gate, Caller.of(request, client_id))

    @property
    def oauth_request(self) -> StarletteOAuth2Request:
        request = self.request
        return StarletteOAuth2Request(request.method, str(request.url), request.headers, self.form)


async def _admitted_record(
    call: Call,
    session: AsyncSession,
    admission: Admission,
    dataset_ids: Sequence[str] = (),
    *,
    grants_with_audit: bool = False,
) -> ClientRecord | Response | None:
    """The record of the client the caller claims to be (None: no such client), once
    `admission` lets the caller in; the refusal if it does not. The client is read from the
    process's copy while the clients' version holds (oauth/client_cache.py), its grants for
    `dataset_ids` always from the database: here, or, with `grants_with_audit` and the client
    kept, later in the statement that audits the token (its record's `grants` then None)."""
    if refusal := admission.refusal():
        return refusal
    client_id = call.caller.client_id
    if not client_id:
        return admission.refusal_of_unknown()
    cache, version = call.gate.clients, admission.clients_version
    known = cache.get(version, client_id)
    if known is not None and dataset_ids and grants_with_audit:
        record: ClientRecord | None = replace(known, grants=None)
    else:
        record = await find_client_record(session, client_id, dataset_ids=dataset_ids, known=known)
    if record is None:
        return admission.refusal_of_unknown()
    if known is None:
        cache.put(version, record)
    if admission.caller_revoked:  # revoked, perhaps not yet committed: refused as if it were
        record = replace(record, revoked=True)
    return record


async def issue_token(call: Call, session: AsyncSession) -> Response:
    form, gate, caller = call.form, call.gate, call.caller
    client_id = caller.client_id
    admission = await admit(gate.limiter, caller, "token", gate.settings.rate_limit_token)
    datasets = [
        m["dataset_id"] for s in parse_scope(form.get("scope")) if (m := DATASET_SCOPE.match(s))
    ]
    # A grant token of a kept client: its grants read in the statement that audits it.
    in_one = form.get("grant_type") == "client_credentials" and _on_postgresql(session)
    record = await _admitted_record(call, session, admission, datasets, grants_with_audit=in_one)
    if isinstance(record, Response):
        return record
    if (
        record is not None
        and datasets
        and record.grants
        and (grant := record.grants.get(datasets[0]))
    ):
        follow_request(grant.request_id, *grant.request_trace)  # a grant token: part of its story
    state = await held_sign_in(
        session,
        form,
        now=utcnow(),
        refresh_ttl=gate.settings.refresh_token_ttl_seconds,
    )
    actor = Actor(record.organisation_id if record else None, client_id)
    audited = False
    oauth_request = call.oauth_request
    with preloaded_client(record), sign_in_state(state):
        validated = gate.server.validated(oauth_request)
        if isinstance(validated, tuple):
            answer = validated
        else:
            client: AuthlibClient = validated.request.client
            error = None
            if client.grant_unread is not None:
                audited, error = await _grant_audited(session, client, actor, form.get("scope"))
            answer = gate.server.answer(validated, error)
    status, body, _ = answer
    fields = body if isinstance(body, dict) else {}
    if status in (400, 401) and fields.get("error") == "invalid_client":
        await count_failure(gate.limiter, gate.settings, caller, known=record is not None)
    instruments().tokens.add(1, {"outcome": "issued" if status == 200 else "refused"})
    if not audited:
        await audit.write(
            session,
            "token.issued" if status == 200 else "token.refused",
            actor=actor
            if state.holder is None or status != 200
            else Actor(state.holder.organisation_id, client_id, state.holder.id),
            subject=client_id,
            scope=fields.get("scope", form.get("scope")),
            error=fields.get("error"),
        )
    response: Response = gate.server.handle_response(*answer)
    response.headers["Cache-Control"] = "no-store"
    return response


def _on_postgresql(session: AsyncSession) -> bool:
    return bool(session.get_bind().dialect.name == "postgresql")


async def _grant_audited(
    session: AsyncSession, client: AuthlibClient, actor: Actor, scope: str | None
) -> tuple[bool, OAuth2Error | None]:
    """A grant token whose request authlib has validated but for its grant: the grant read and,
    if one is in force, the token's audit row appended, in one statement (oauth/repository).
    The row is the one issuing it writes (its scope the one asked for, no error): whether the
    token is issued then depends on the grant alone, since a validated client-credentials
    request's token is only generated. (True, None): audited, the grant set on `client`;
    (False, the refusal): no grant, nothing written."""
    assert client.grant_unread is not None
    asked, dataset_id = client.grant_unread
    row = await audit.fields_of(
        session, "token.issued", actor=actor, subject=actor.client_id, scope=scope, error=None
    )
    granted, appended = await repository.grants_in_force_audited(
        session,
        client.record.organisation_id,
        [dataset_id],
        audit.parameters_of(session, row),
        now=utcnow(),
    )
    grant = data_grants(granted).get(dataset_id)
    if grant is None or appended is None:
        return False, no_grant(asked)
    client.data_grant = grant
    follow_request(grant.request_id, *grant.request_trace)  # a grant token: part of its story
    return True, None


async def authenticated_client(
    call: Call, session: AsyncSession, admission: Admission, endpoint: str
) -> AuthlibClient | Response:
    """The client authenticated by authlib as at the token endpoint, once `admission` lets the
    caller in (an error response if it does not, or authentication fails)."""
    gate = call.gate
    record = await _admitted_record(call, session, admission)
    if isinstance(record, Response):
        return record
    oauth_request = call.oauth_request
    with preloaded_client(record):
        try:
            client: AuthlibClient = gate.server.authenticate_client(
                oauth_request, TOKEN_AUTH_METHODS, endpoint=endpoint
            )
        except OAuth2Error as error:
            if error.error == "invalid_client":
                known = record is not None
                await count_failure(gate.limiter, gate.settings, call.caller, known=known)
            response: Response = gate.server.handle_error_response(oauth_request, error)
            return response
    return client


async def revoke(
    call: Call, session: AsyncSession, keyring: KeyRing, redis: Redis | None
) -> Response:
    """RFC 7009: a client revokes one of its own access tokens."""
    form, gate, caller = call.form, call.gate, call.caller
    admission = await admit(gate.limiter, caller, "revocation", gate.settings.rate_limit_token)
    client = await authenticated_client(call, session, admission, "revocation")
    if isinstance(client, Response):
        return client
    try:
        claims = decode_access_token(form.get("token", ""), keyring, gate.settings.issuer)
    except Unauthorized:
        return Response(status_code=200)  # RFC 7009: an invalid token needs no revoking
    if claims["client_id"] != client.get_client_id():
        return Response(status_code=200)  # RFC 7009: not the caller's token, nothing to say
    if redis is None:  # nowhere to keep it (development without REDIS_URL): say so
        raise ServiceUnavailable(
            "token revocation needs Redis; this broker runs without REDIS_URL",
            detail_zh="撤销令牌需要 Redis；本服务未配置 REDIS_URL",
        )
    await audit.record(
        session,
        "token.revoked",
        actor=Actor(client.record.organisation_id, client.get_client_id()),
        subject=str(claims["jti"]),
    )
    await revocation.revoke(
        redis, str(claims["jti"]), seconds_left=int(claims["exp"]) - int(time.time())
    )
    return Response(status_code=200)
