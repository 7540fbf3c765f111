"""RFC 7662 introspection: verify the token, admit and authenticate the caller, then say whether
the token, its client and its grants still stand, counting one use on each grant if they do.

The common call makes one Redis round trip and no database one: the token's standing comes from
the process's copy (oauth/standing.py) and the caller's client from its own (oauth/client_cache.py),
both guessed before the round trip at the versions they were read at; the caller is
authenticated against the kept client (CPU only; the answer is given only if the admission lets
the caller in, so a locked-out caller learns nothing from it), and the admission script counts
the use in Redis (oauth/uses.py) only if those versions still hold, the caller is within its
rate and not locked out, and neither the token nor a client is revoked. Anything else (a
standing not kept, a version moved, Redis not answering, a caller the copy does not hold) goes
the way every call went before: admit, authenticate, read the standing (from the copy if the
versions hold, else from the database) and count the use with an UPDATE.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import partial
from typing import Any

from authlib.common.security import is_secure_transport
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from fastapi.responses import JSONResponse, Response
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from broker.kit.deps import Sessions
from broker.kit.problems import Unauthorized
from broker.kit.ratelimit import CountIf
from broker.oauth import repository, revocation, standing, uses
from broker.oauth.client_cache import MISSING
from broker.oauth.keys import KeyRing
from broker.oauth.lockout import Admission, admit
from broker.oauth.principal import decode_access_token
from broker.oauth.scopes import Scope, parse_scope
from broker.oauth.server import ClientRecord, secret_matches
from broker.oauth.service import Call, authenticated_client
from core.clock import utcnow
from core.metrics import instruments

INACTIVE: dict[str, Any] = {"active": False}
# What JSONResponse renders, without its per-call render and options: the inactive answer is
# encoded once, the active one with the same options, so the bytes are JSONResponse's.
_encoded = partial(json.dumps, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_INACTIVE_BODY = _encoded(INACTIVE).encode()
_NO_STORE = {"Cache-Control": "no-store"}
_ACTIVE_LABEL, _INACTIVE_LABEL = {"active": "true"}, {"active": "false"}
_ANSWERED_CLAIMS = ("scope", "client_id", "sub", "exp", "iat", "iss", "aud", "jti", "org_id")
_INSUFFICIENT = {"error": "insufficient_scope", "error_description": "needs 'tokens:introspect'"}


async def introspect(
    call: Call, sessions: Sessions, keyring: KeyRing, redis: Redis | None
) -> Response:
    """A token is inactive once it, its client or its grant is revoked, paused or expired; a
    signature check alone (offline, with the JWKS) cannot see those, which is why providers
    introspect. Each active answer counts a use on the token's grants."""
    form, gate, caller = call.form, call.gate, call.caller
    try:  # CPU only; verified before the caller is admitted so that one round trip asks both
        claims: dict[str, Any] | None = decode_access_token(
            form.get("token", ""), keyring, gate.settings.issuer
        )
    except Unauthorized:
        claims = None
    revoked_keys = revocation.keys(str(claims["jti"]), str(claims["client_id"])) if claims else []
    admission = await admit(
        gate.limiter,
        caller,
        "introspection",
        gate.settings.rate_limit_introspect,
        revoked_keys,
        grants_version=True,
        count=_count_if_kept(call, claims) if claims else None,
    )
    if admission.counted:  # everything the slow way checks, confirmed by the script
        assert claims is not None
        return _answered(_active(claims))
    # Statements that each stand alone (the client, unless the process keeps it; the token's
    # standing and its use counted): no transaction around them. Opened only here: the
    # counted call above needs no session.
    async with sessions.session(autocommit=True) as session:
        return await _slowly(call, session, claims, admission, redis)


async def _slowly(
    call: Call,
    session: AsyncSession,
    claims: dict[str, Any] | None,
    admission: Admission,
    redis: Redis | None,
) -> Response:
    gate = call.gate
    client = await authenticated_client(call, session, admission, "introspection")
    if isinstance(client, Response):
        return client
    if Scope.tokens_introspect.value not in parse_scope(client.record.scope):
        return JSONResponse(_INSUFFICIENT, status_code=403)
    kept_at = standing.versions(admission.clients_version, admission.grants_version)
    answer = await _answer(claims, admission.existing, session, redis, (gate.standings, kept_at))
    return _answered(answer)


def _answered(answer: dict[str, Any]) -> Response:
    active = answer["active"]
    instruments().introspections.add(1, _ACTIVE_LABEL if active else _INACTIVE_LABEL)
    body = _encoded(answer).encode() if active else _INACTIVE_BODY
    return Response(body, headers=_NO_STORE, media_type="application/json")


def _grant_ids(claims: dict[str, Any]) -> set[str]:
    return {str(d.get("grant_id")) for d in claims.get("authorization_details") or []}


def _count_if_kept(call: Call, claims: dict[str, Any]) -> CountIf | None:
    """The use to count in the admission script, if this process keeps all it needs to answer:
    the token's standing, in force now, and the caller's client, which authenticates and may
    introspect; counted only if the versions they were kept at still hold."""
    gate, client_id = call.gate, call.caller.client_id
    grant_ids, kept_at = _grant_ids(claims), gate.standings.version
    if not grant_ids or not client_id or kept_at is None or gate.clients.version is None:
        return None
    found = gate.standings.current(gate.standings.key(str(claims["client_id"]), grant_ids))
    now = utcnow()
    if found is None or not found.in_force(now):
        return None
    record = gate.clients.current(client_id)
    if record is None or record.revoked:
        return None
    clients_version, _, grants_version = kept_at.partition(b" ")
    if clients_version != gate.clients.version:
        return None  # the two copies were read at different clients' versions
    request = call.request
    if not kept_client_authenticates(record, str(request.url), request.headers, call.form):
        return None  # the slow way answers it (authlib), and counts the failure
    if Scope.tokens_introspect.value not in parse_scope(record.scope):
        return None
    return uses.count_if([clients_version, MISSING, grants_version], grant_ids, now)


async def _answer(
    claims: dict[str, Any] | None,
    revoked_found: int | None,
    session: AsyncSession,
    redis: Redis | None,
    kept: tuple[standing.StandingCache, bytes | None],
) -> dict[str, Any]:
    if claims is None:
        return INACTIVE
    jti, client_id = str(claims["jti"]), str(claims["client_id"])
    if revoked_found is None:  # the admission could not ask Redis: ask again, failing if it fails
        revoked_found = int(await revocation.is_revoked(redis, jti, client_id))
    if revoked_found:
        return INACTIVE
    if not await _counted_if_standing(session, client_id, _grant_ids(claims), kept):
        return INACTIVE
    return _active(claims)


def _active(claims: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {key: claims[key] for key in _ANSWERED_CLAIMS if key in claims}
    if "authorization_details" in claims:
        answer["authorization_details"] = claims["authorization_details"]
    return {"active": True, "token_type": "Bearer", **answer}


async def _counted_if_standing(
    session: AsyncSession,
    client_id: str,
    grant_ids: set[str],
    kept: tuple[standing.StandingCache, bytes | None],
) -> bool:
    """Whether the token's client and grants stand now; if so, one use counted on each grant.
    The standing comes from the process's copy while the versions it was read at hold
    (oauth/standing.py); not known (Redis did not answer), one statement reads and counts."""
    now = utcnow()
    standings, versions = kept
    if versions is None:
        return await repository.count_uses_if_standing(session, client_id, grant_ids, now=now)
    key = standings.key(client_id, grant_ids)
    found = standings.get(versions, key)
    if found is None:
        found = await repository.standing_of(session, client_id, grant_ids)
        standings.keep(versions, key, found)
    if not found.in_force(now):
        return False
    if grant_ids:
        await repository.count_uses(session, grant_ids, now=now)
    return True


def kept_client_authenticates(
    record: ClientRecord, url: str, headers: Mapping[str, str], form: dict[str, str]
) -> bool:
    """Whether authlib's `authenticate_client` with TOKEN_AUTH_METHODS would authenticate the
    client `record` (the process's copy) on this call, decided without building authlib's request
    object and client (its URL parsed, its payload, a context variable, its log lines): the same
    transport check and Basic parsing (authlib's own functions), then the methods in authlib's
    order. True only where authlib's would be; a caller it refuses is refused the way it always
    was, by authlib (oauth/service.py)."""
    if not is_secure_transport(url):
        return False  # authlib's OAuth2Request refuses it (InsecureTransportError)
    # client_secret_basic: an unknown (or revoked) client fails at once; a wrong secret goes on
    # to client_secret_post, as in authlib's ClientAuthentication.
    client_id, secret = extract_basic_authorization(headers)
    if client_id and secret:
        if client_id != record.client_id or record.revoked:
            return False
        if secret_matches(record, secret):
            return True
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if not (client_id and secret) or client_id != record.client_id or record.revoked:
        return False
    return secret_matches(record, secret)
