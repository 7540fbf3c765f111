"""The raw floors: what a faithful minimal implementation of each path does on this machine.

None of the broker's code runs here (no middleware, ORM, authlib or relay): FastAPI, asyncpg, the
Redis client and joserfc, each used the plainest way, served by uvicorn as `cdo-broker serve` is.

- `POST /raw/requests` verifies the RS256 bearer token, validates the body with pydantic, then in
  ONE round trip (a CTE, autocommit) writes the durable rows a filing writes: the request (its
  Idempotency-Key unique per requester), its steps, their approvers, its outbox events and its
  audit row (`request.filed`, appended to its hash chain as audit/repository.py appends: the
  chain's head row updated, its HMAC-SHA256 computed by PostgreSQL from the AUDIT_KEY's pads).
  A repeated key writes nothing and answers the earlier request (a second round trip, then only).
  The rows are copies of a request the broker filed in the same run (`--template`), so they have
  the same size and go to the same indexes; the outbox rows are unsent (whatever became of the
  template's), and no relay runs here: the bench drains them with the broker's relay before the
  next run. Given several templates (comma-separated), a filing copies the one its requester filed
  (else the first), so that its approval task goes where the broker's filing would send it. With
  `--notify CHANNEL` the same statement also notifies CHANNEL when it wrote a request (delivered
  at its commit), as the broker's commit wakes its relay: bench/e2e's raw path (bench/raw_path.py)
  has its relay listen there.
- `POST /raw/requests/checked`: the same, with the checks the broker keeps before it writes, in
  ONE Redis round trip (a pipeline): is the token's id or its client revoked (a revocation seen at
  once), and the organisation's filings counted in a fixed one-minute window (RATE_LIMIT_SUBMIT).
- `POST /raw/token`: Basic client authentication, ONE query (the client; with a `dataset:` scope
  also its organisation's active grant of that dataset), the secret's SHA-256 compared, an RFC 9068
  JWT signed with the broker's key: the floor issue 17 names (a lookup and a signature).
- `POST /raw/token/checked`: the same, with what the broker's token endpoint keeps besides: the
  client's calls counted in a fixed one-minute window (RATE_LIMIT_TOKEN, one Redis round trip),
  and its durable effect: in the same ONE statement the client is looked up by its secret's
  SHA-256 and, when it is found (and, for a `dataset:` scope, its grant is in force), the
  `token.issued` audit row is appended to the client's hash chain as a filing's row is (below).
- `POST /raw/introspect`: the token verified (signature, typ, iss, aud, exp) and ONE Redis round
  trip (is its id or its client revoked).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote

import asyncpg
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from redis.asyncio import Redis

SHARDS = 16  # as the outbox's (core/models/outbox.py): crc32 of the key
CHAINS = 16  # as the audit log's (broker/audit/service.py): crc32 of the subject
GENESIS = "0" * 64


class PeriodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: AwareDatetime
    end: AwareDatetime


class FilingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["share", "return"]
    dataset_id: str = Field(min_length=1, max_length=100)
    fields: list[str] = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=4, max_length=2000)
    legal_basis: str | None = None
    period: PeriodIn
    jurisdiction: str | None = None


def _filing_sql(columns: dict[str, list[str]], notify: str = "") -> str:
    """One statement: the request (nothing when its key was used), then the rest from it; with
    `notify`, a notification on that channel when the request was written."""

    def cols(table: str) -> str:
        return ", ".join(f'"{c}"' for c in columns[table])

    return f"""
WITH r AS (
  INSERT INTO requests ({cols("requests")})
  SELECT {cols("requests")} FROM jsonb_populate_record(NULL::requests, $1::jsonb)
  ON CONFLICT (requester_id, idempotency_key) DO NOTHING
  RETURNING id
), s AS (
  INSERT INTO request_steps ({cols("request_steps")})
  SELECT {cols("request_steps")} FROM jsonb_populate_recordset(NULL::request_steps, $2::jsonb)
  WHERE EXISTS (SELECT 1 FROM r)
), a AS (
  INSERT INTO step_approvers ({cols("step_approvers")})
  SELECT {cols("step_approvers")} FROM jsonb_populate_recordset(NULL::step_approvers, $3::jsonb)
  WHERE EXISTS (SELECT 1 FROM r)
), e AS (
  INSERT INTO outbox_events ({cols("outbox_events")})
  SELECT {cols("outbox_events")} FROM jsonb_populate_recordset(NULL::outbox_events, $4::jsonb)
  WHERE EXISTS (SELECT 1 FROM r)
), h AS (
  -- HMAC-SHA256 (RFC 2104) of "previous hash|content": sha256(outer pad || sha256(inner pad ||
  -- message)). SET sees the row before the update; the row lock orders the chain until commit.
  UPDATE audit_chain_heads
  SET prev_hash = hash,
      hash = encode(sha256($8::bytea || sha256($7::bytea || convert_to(hash || '|' || $6, 'UTF8'))),
                    'hex')
  WHERE chain = ($5::jsonb->>'chain')::smallint AND EXISTS (SELECT 1 FROM r)
  RETURNING prev_hash, hash
), l AS (
  INSERT INTO audit_log ({cols("audit_log")}, prev_hash, hash)
  SELECT {cols("audit_log")}, h.prev_hash, h.hash
  FROM jsonb_populate_record(NULL::audit_log, $5::jsonb), h
){_notified(notify)}"""


def _notified(channel: str) -> str:
    """The statement's end: the new request's id and, given a channel, its notification (sent by
    PostgreSQL at the commit; a CTE only runs when the query reads it)."""
    if not channel:
        return "\nSELECT id FROM r"
    if not channel.isidentifier():
        raise SystemExit(f"raw floor: {channel!r} is no channel name")
    return f""", n AS (
  SELECT pg_notify('{channel}', '') FROM r
)
SELECT id FROM r WHERE EXISTS (SELECT FROM n)"""


_AUDIT_COLUMNS = [
    "occurred_at", "actor", "client_id", "action", "subject", "detail", "chain", "key_id",
]  # fmt: skip
_HEADS_SQL = f"""
INSERT INTO audit_chain_heads (chain, prev_hash, hash)
SELECT chain, '{GENESIS}', '{GENESIS}' FROM generate_series(0, {CHAINS - 1}) AS chain
ON CONFLICT DO NOTHING"""


def _audit_key() -> bytes:
    """The newest AUDIT_KEY, as the broker reads it: the setting, else development's key file."""
    configured = os.environ.get("AUDIT_KEY", "").split(",")[0].strip()
    if not configured:
        configured = (Path(os.environ["BROKER_DEV_KEY_DIR"]) / "audit.key").read_text().strip()
    return base64.urlsafe_b64decode(configured)


def _pads(key: bytes) -> tuple[bytes, bytes]:
    """RFC 2104's inner and outer pads of `key` (SHA-256: 64-byte blocks)."""
    key = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


_TEMPLATE_SQL = {
    "requests": "SELECT * FROM requests WHERE id = $1",
    "request_steps": "SELECT * FROM request_steps WHERE request_id = $1 ORDER BY index",
    "step_approvers": "SELECT * FROM step_approvers WHERE request_id = $1 ORDER BY id",
    "outbox_events": "SELECT * FROM outbox_events WHERE subject = $1 ORDER BY id",
}


def _jsonable(row: asyncpg.Record, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in skip:
            continue
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    return out


class Floor:
    def __init__(
        self, template_id: str, key_pem: bytes, issuer: str, ttl_s: int, notify: str = ""
    ) -> None:
        self.template_id = template_id
        self.notify = notify
        self.key = RSAKey.import_key(key_pem)
        self.key.ensure_kid()
        self.issuer = issuer
        self.ttl_s = ttl_s
        self.pool: asyncpg.Pool
        self.redis: Redis
        self.template: dict[str, list[dict[str, Any]]] = {}  # the first
        self.templates: dict[str, dict[str, list[dict[str, Any]]]] = {}  # by requester
        self.filing_sql = ""
        self.key_id = ""
        self.pads = (b"", b"")
        self.submit_limit = _per_minute("RATE_LIMIT_SUBMIT")
        self.token_limit = _per_minute("RATE_LIMIT_TOKEN")

    async def load_template(self) -> None:
        for template_id in reversed(self.template_id.split(",")):  # the first one's kept last
            self.template = await self._template(template_id)
            self.templates[self.template["requests"][0]["requester_id"]] = self.template
        columns = {table: list(rows[0]) for table, rows in self.template.items() if rows}
        self.filing_sql = _filing_sql(columns | {"audit_log": _AUDIT_COLUMNS}, self.notify)

    async def _template(self, template_id: str) -> dict[str, list[dict[str, Any]]]:
        template: dict[str, list[dict[str, Any]]] = {}
        async with self.pool.acquire() as connection:
            for table, sql in _TEMPLATE_SQL.items():
                rows = await connection.fetch(sql, template_id)
                if table == "outbox_events":  # the id is the table's sequence; each unsent
                    unsent = {"sent_at": None, "attempts": 0, "last_error": None}
                    template[table] = [_jsonable(r, skip=("id",)) | unsent for r in rows]
                else:
                    template[table] = [_jsonable(r) for r in rows]
        if not template["requests"]:
            raise SystemExit(f"raw floor: no template request {template_id}")
        return template

    def load_audit_key(self) -> None:
        """The key the filing's and the audited tokens' rows are chained under, as the broker's."""
        secret = _audit_key()
        self.key_id = hashlib.sha256(b"cdo-broker audit key|" + secret).hexdigest()[:16]
        self.pads = _pads(secret)


floor: Floor
app = FastAPI()


def _bearer(request: Request) -> dict[str, Any] | None:
    authorization = request.headers.get("authorization", "")
    if not authorization.lower().startswith("bearer "):
        return None
    return _verified(authorization[7:])


def _verified(token: str) -> dict[str, Any] | None:
    try:
        decoded = jwt.decode(token, floor.key, algorithms=["RS256"])
    except (JoseError, ValueError):
        return None
    claims = decoded.claims
    if (
        decoded.header.get("typ") != "at+jwt"
        or claims.get("iss") != floor.issuer
        or claims.get("aud") != floor.issuer
        or int(claims.get("exp", 0)) <= time.time()
    ):
        return None
    return claims


def _revocations(claims: dict[str, Any]) -> tuple[str, str]:
    return f"cdo:revoked-token:{claims['jti']}", f"cdo:revoked-client:{claims['client_id']}"


async def _revoked(claims: dict[str, Any]) -> bool:
    """Whether the token's id or its client is revoked: one Redis round trip."""
    return bool(await floor.redis.exists(*_revocations(claims)))


def _per_minute(setting: str) -> int:
    """A rate limit's number, `N/minute` as the bench sets them (bench/environment.py)."""
    number, _, unit = os.environ.get(setting, "100000000/minute").partition("/")
    if unit != "minute":
        raise SystemExit(f"raw floor: {setting} must be N/minute")
    return int(number)


async def _admitted(counted: str, limit: int, revoked: tuple[str, ...] = ()) -> bool:
    """In one Redis round trip: none of the `revoked` keys exists, and `counted`'s calls in this
    minute (a fixed window) are within `limit`."""
    window = f"cdo:bench:raw:{counted}:{int(time.time()) // 60}"
    pipeline = floor.redis.pipeline(transaction=False)
    if revoked:
        pipeline.exists(*revoked)
    pipeline.incr(window)
    pipeline.expire(window, 60, nx=True)
    answers = await pipeline.execute()
    found = answers[0] if revoked else 0
    return not found and int(answers[-2]) <= limit


@app.post("/raw/requests", status_code=201)
async def file(request: Request) -> Response:
    return await _file(request, checked=False)


@app.post("/raw/requests/checked", status_code=201)
async def file_checked(request: Request) -> Response:
    return await _file(request, checked=True)


async def _file(request: Request, *, checked: bool) -> Response:
    claims = _bearer(request)
    if claims is None:
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    if checked and not await _admitted(
        f"submit:{claims['org_id']}", floor.submit_limit, _revocations(claims)
    ):
        return JSONResponse({"error": "unauthorized or over the rate"}, status_code=401)
    body = FilingIn.model_validate_json(await request.body())
    key = request.headers.get("idempotency-key")
    now = datetime.now(UTC).isoformat()
    template = floor.templates.get(claims["org_id"], floor.template)
    request_id = "req_" + secrets.token_hex(12)
    row = template["requests"][0] | {
        "id": request_id,
        "requester_id": claims["org_id"],
        "fields": body.fields,
        "purpose": body.purpose,
        "period_start": body.period.start.isoformat(),
        "period_end": body.period.end.isoformat(),
        "idempotency_key": key,
        "created_at": now,
        "updated_at": now,
    }
    step_ids = {s["id"]: "stp_" + secrets.token_hex(12) for s in template["request_steps"]}
    steps = [
        s | {"id": step_ids[s["id"]], "request_id": request_id} for s in template["request_steps"]
    ]
    approvers = [
        a
        | {"id": "apv_" + secrets.token_hex(12), "step_id": step_ids[a["step_id"]]}
        | {"request_id": request_id}
        for a in template["step_approvers"]
    ]
    events = []
    for e in template["outbox_events"]:
        event_key = request_id if e["key"] == e["subject"] else e["key"]
        events.append(
            e
            | {
                "event_id": str(uuid.uuid4()),
                "key": event_key,
                "shard": zlib.crc32(event_key.encode()) % SHARDS,
                "subject": request_id,
                "data": e["data"] | {"request_id": request_id},
                "created_at": now,
            }
        )
    audited = {
        "occurred_at": now,
        "actor": claims["org_id"],
        "client_id": claims["client_id"],
        "action": "request.filed",
        "subject": request_id,
        "detail": {
            "kind": body.kind,
            "dataset": body.dataset_id,
            "provider": row["provider_id"],
            "fields": body.fields,
            "period": [body.period.start.isoformat(), body.period.end.isoformat()],
            "jurisdiction": body.jurisdiction,
        },
    }
    # What the row's MAC covers besides the previous hash: these fields as sorted, compact JSON.
    content = json.dumps(audited, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    audited |= {"chain": zlib.crc32(request_id.encode()) % CHAINS, "key_id": floor.key_id}
    async with floor.pool.acquire() as connection:
        created = await connection.fetchval(
            floor.filing_sql,
            row,
            steps,
            approvers,
            events,
            audited,
            content,
            *floor.pads,
        )
        if created is None:  # the key was used: the earlier request is the answer
            earlier = await connection.fetchval(
                "SELECT id FROM requests WHERE requester_id = $1 AND idempotency_key = $2",
                claims["org_id"],
                key,
            )
            return JSONResponse({"id": earlier}, status_code=200)
    return JSONResponse(
        {"id": request_id, "status": "pending"},
        status_code=201,
        headers={"Location": f"/raw/requests/{request_id}"},
    )


def _basic(request: Request) -> tuple[str, str] | None:
    authorization = request.headers.get("authorization", "")
    if not authorization.lower().startswith("basic "):
        return None
    client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
    return unquote(client_id), unquote(secret)


_CLIENT_SQL = """
SELECT organisation_id, scope, secret_hash FROM oauth_clients
WHERE id = $1 AND revoked_at IS NULL"""
_GRANT_SQL = """
SELECT c.organisation_id, c.scope, c.secret_hash, g.id, g.fields, g.purpose, g.jurisdiction,
       g.ends_at
FROM oauth_clients c
LEFT JOIN grants g ON g.grantee_id = c.organisation_id AND g.dataset_id = $2
  AND g.status = 'active' AND g.starts_at <= now() AND g.ends_at > now()
WHERE c.id = $1 AND c.revoked_at IS NULL
ORDER BY g.ends_at DESC NULLS LAST LIMIT 1"""


# The client found by its secret's digest and, when found (for a grant token: with a grant in
# force), the `token.issued` row appended to the client's chain, as _filing_sql appends: the
# row's canonical content (audit/service.canonical) is $3 || the organisation as JSON || $4.
_AUDITED_SQL = """
WITH c AS ({lookup}
), h AS (
  UPDATE audit_chain_heads
  SET prev_hash = hash,
      hash = encode(sha256($7::bytea || sha256($6::bytea || convert_to(
        hash || '|' || $3 || to_json(c.organisation_id)::text || $4, 'UTF8'))), 'hex')
  FROM c
  WHERE chain = $5 AND c.secret_hash = $9 {granted}
  RETURNING audit_chain_heads.prev_hash, audit_chain_heads.hash, c.organisation_id
), l AS (
  INSERT INTO audit_log (occurred_at, actor, client_id, action, subject, detail, chain, key_id,
                         prev_hash, hash)
  SELECT $8::timestamptz, h.organisation_id, $1, 'token.issued', $1, $10::jsonb, $5, $11,
         h.prev_hash, h.hash
  FROM h
)
SELECT * FROM c"""
_AUDITED_CLIENT_SQL = _AUDITED_SQL.format(
    # $2, the dataset, is null here: named so that both statements take the same parameters
    lookup=_CLIENT_SQL.replace("WHERE id = $1", "WHERE $2::text IS NULL AND id = $1"),
    granted="",
)
_AUDITED_GRANT_SQL = _AUDITED_SQL.format(lookup=_GRANT_SQL, granted="AND c.id IS NOT NULL")


_ORGANISATION = "{organisation}"  # where the statement puts the client's organisation


async def _audited_row(
    client_id: str, dataset: str | None, scope: str, digest: str
) -> asyncpg.Record | None:
    """The client's row (with its grant's, for a `dataset:` scope) and, in the same statement,
    its `token.issued` audit row when it authenticates."""
    now = datetime.now(UTC)
    detail = {"error": None, "scope": scope}
    content = json.dumps(
        {
            "action": "token.issued",
            "actor": _ORGANISATION,
            "client_id": client_id,
            "detail": detail,
            "occurred_at": now.isoformat(),
            "subject": client_id,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    before, _, after = content.partition(json.dumps(_ORGANISATION))
    sql = _AUDITED_CLIENT_SQL if dataset is None else _AUDITED_GRANT_SQL
    inner, outer = floor.pads
    async with floor.pool.acquire() as connection:
        row: asyncpg.Record | None = await connection.fetchrow(
            sql, client_id, dataset, before, after, zlib.crc32(client_id.encode()) % CHAINS,
            inner, outer, now, digest, detail, floor.key_id,
        )  # fmt: skip
    return row


@app.post("/raw/token")
async def token(request: Request) -> Response:
    return await _token(request, checked=False)


@app.post("/raw/token/checked")
async def token_checked(request: Request) -> Response:
    return await _token(request, checked=True)


async def _token(request: Request, *, checked: bool) -> Response:
    credentials = _basic(request)
    form = dict(parse_qsl((await request.body()).decode()))
    if credentials is None:
        return JSONResponse({"error": "invalid_client"}, status_code=401)
    client_id, secret = credentials
    scope = form.get("scope", "")
    dataset = scope[len("dataset:") : -len(":read")] if scope.startswith("dataset:") else None
    digest = hashlib.sha256(secret.encode()).hexdigest()
    if checked:
        address = request.client.host if request.client else ""
        if not await _admitted(f"token:{client_id}:{address}", floor.token_limit):
            return JSONResponse({"error": "over the rate"}, status_code=429)
        row = await _audited_row(client_id, dataset, scope, digest)
    else:
        async with floor.pool.acquire() as connection:
            if dataset is None:
                row = await connection.fetchrow(_CLIENT_SQL, client_id)
            else:
                row = await connection.fetchrow(_GRANT_SQL, client_id, dataset)
    if row is None or not hmac.compare_digest(row["secret_hash"], digest):
        return JSONResponse({"error": "invalid_client"}, status_code=401)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": floor.issuer,
        "aud": floor.issuer,
        "sub": client_id,
        "client_id": client_id,
        "org_id": row["organisation_id"],
        "scope": scope,
        "iat": now,
        "exp": now + floor.ttl_s,
        "jti": secrets.token_urlsafe(24),
    }
    if dataset is not None:
        if row["id"] is None:
            return JSONResponse({"error": "invalid_scope"}, status_code=400)
        detail = {
            "type": "data_grant",
            "grant_id": row["id"],
            "dataset_id": dataset,
            "fields": row["fields"],
            "purpose": row["purpose"],
        }
        if row["jurisdiction"] is not None:
            detail["jurisdiction"] = row["jurisdiction"]
        claims["authorization_details"] = [detail]
        claims["exp"] = min(claims["exp"], int(row["ends_at"].timestamp()))
    header = {"alg": "RS256", "typ": "at+jwt", "kid": floor.key.kid}
    return JSONResponse(
        {
            "access_token": jwt.encode(header, claims, floor.key),
            "token_type": "Bearer",
            "expires_in": claims["exp"] - now,
            "scope": scope,
        },
        headers={"Cache-Control": "no-store"},
    )


@app.post("/raw/introspect")
async def introspect(request: Request) -> Response:
    form = dict(parse_qsl((await request.body()).decode()))
    claims = _verified(form.get("token", ""))
    if claims is None:
        return JSONResponse({"active": False})
    if await _revoked(claims):
        return JSONResponse({"active": False})
    return JSONResponse({"active": True, **claims}, headers={"Cache-Control": "no-store"})


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _json_codecs(connection: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    dsn = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    # Up to 20 connections, as the broker's pool (core/db.py); asyncpg keeps the ones it opens
    # under load, as the broker's pool of 20 with no overflow does.
    floor.pool = await asyncpg.create_pool(dsn, min_size=10, max_size=20, init=_json_codecs)
    floor.redis = Redis.from_url(os.environ["REDIS_URL"])
    floor.load_audit_key()
    await floor.pool.execute(_HEADS_SQL)  # a chain with no head row would append nothing
    if floor.template_id:
        await floor.load_template()
    yield
    await floor.redis.aclose()
    await floor.pool.close()


app.router.lifespan_context = _lifespan


def main() -> None:
    global floor
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--template", default="", help="a request filed by the broker (or several, a,b,...)"
    )
    parser.add_argument("--notify", default="", help="a filing notifies this channel")
    args = parser.parse_args()
    key_pem = (Path(os.environ["BROKER_DEV_KEY_DIR"]) / "signing-key.pem").read_bytes()
    floor = Floor(
        args.template,
        key_pem,
        os.environ["OAUTH_ISSUER"],
        ttl_s=int(os.environ.get("ACCESS_TOKEN_TTL", "900")),
        notify=args.notify,
    )
    uvicorn.run(app, host=args.host, port=args.port, proxy_headers=True, log_level="warning")


if __name__ == "__main__":
    main()
