"""The audit log: every security-relevant action, hash-chained so an edit or a deletion shows.

The log is `CHAINS` hash chains, not one: one chain serialised every audited write in the system
(every token issued, every decision) behind one lock held until commit; with several, only
writes whose subjects share a chain wait for each other. A row goes to the chain of its subject,
or, after the first audited row of a transaction, to that row's chain, so that one transaction
holds one chain and two cannot deadlock on chains.

Each row's hash is HMAC-SHA256, under the newest AUDIT_KEY (audit/keys.py), of
`"{previous hash}|{content}"`, content being `canonical(entry)`: so whoever can write the
database but does not hold the key cannot change a row and re-chain the rows after it.

Each chain's newest hash is kept in `audit_chain_heads`. On PostgreSQL one statement appends
(`repository.append`): it updates the head row (whose lock, held until commit, orders the chain;
a writer that waited for it computes from the hash its predecessor committed) and inserts the
entry with the previous and the new hash, the MAC computed by the database from the key's pads,
sent as bind parameters. audit/verification.py walks the chains.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import repository
from broker.audit.actor import Actor
from broker.audit.keys import AUDIT_KEYS, AuditKey, AuditKeys
from broker.kit.attributes import attributes
from core.clock import utcnow
from core.db import autocommit_connection
from core.models.audit import AuditEntry

GENESIS = repository.GENESIS
# Changing it only changes where new rows go: verification reads each row's stored chain.
CHAINS = 16
_HELD = "audit_chain"  # session.info: (the transaction, the chain it appends to)
# A row's fields that its hash covers, named as the row and `canonical_content` name them.
_HASHED = ("occurred_at", "actor", "client_id", "person_id", "action", "subject", "detail")


class AuditKeyMissing(RuntimeError):
    """A session made without the audit keys (core.db.create_sessionmaker(audit_keys=...))."""


def chain_of(subject: str | None) -> int:
    """The chain of a subject: a stable hash, the same in every process."""
    return zlib.crc32(subject.encode()) % CHAINS if subject else 0


def canonical(entry: AuditEntry) -> str:
    """What a row's hash covers besides the previous hash: these fields as sorted, compact
    JSON (not `chain`, `key_id` or the hashes themselves), `person_id` only when set."""
    return canonical_content(**attributes(entry, _HASHED))


def canonical_content(
    *,
    occurred_at: datetime,
    actor: str | None,
    client_id: str | None,
    person_id: str | None,
    action: str,
    subject: str | None,
    detail: dict[str, Any],
) -> str:
    """`canonical` of a row given by its fields (bulk writers compute it without a model)."""
    content = {
        "occurred_at": occurred_at.isoformat(),
        "actor": actor,
        "client_id": client_id,
        "action": action,
        "subject": subject,
        "detail": detail,
    }
    if person_id is not None:
        # Only when there is one: rows written before the column existed hash as they did.
        content["person_id"] = person_id
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chained(prev_hash: str, entry: AuditEntry) -> str:
    """The message a row's hash is taken of."""
    return chained_content(prev_hash, canonical(entry))


def chained_content(prev_hash: str, content: str) -> str:
    """`chained` of a row given by its canonical content (bulk writers have no model)."""
    return f"{prev_hash}|{content}"


def legacy_hash(prev_hash: str, entry: AuditEntry) -> str:
    """The plain SHA-256 of rows written before the chain was keyed (key_id null)."""
    return hashlib.sha256(chained(prev_hash, entry).encode()).hexdigest()


def keys_of(session: AsyncSession) -> AuditKeys:
    keys = session.info.get(AUDIT_KEYS)
    if not isinstance(keys, AuditKeys):
        raise AuditKeyMissing("this session was made without the audit keys (AUDIT_KEY)")
    return keys


async def record(
    session: AsyncSession,
    action: str,
    *,
    actor: Actor,
    subject: str | None,
    now: datetime | None = None,
    **detail: Any,
) -> AuditEntry:
    entry = await entry_of(session, action, actor=actor, subject=subject, now=now, **detail)
    return await append(session, entry)


async def entry_of(
    session: AsyncSession,
    action: str,
    *,
    actor: Actor,
    subject: str | None,
    now: datetime | None = None,
    **detail: Any,
) -> AuditEntry:
    """The row `record` appends, its chain chosen (and held for the transaction), not written:
    `append` writes it, or the caller's own statement (`append_parameters`)."""
    fields = await fields_of(session, action, actor=actor, subject=subject, now=now, **detail)
    return AuditEntry(**fields)


async def fields_of(
    session: AsyncSession,
    action: str,
    *,
    actor: Actor,
    subject: str | None,
    now: datetime | None = None,
    **detail: Any,
) -> dict[str, Any]:
    """`entry_of`'s row as its columns' values (all but its id and hashes), with no model built:
    for a hot path that needs nothing of the row back (`write`, `parameters_of`)."""
    fields: dict[str, Any] = {
        "occurred_at": now or utcnow(),
        "actor": actor.org_id,
        "client_id": actor.client_id,
        "person_id": actor.person_id,
        "action": action,
        "subject": subject,
        "detail": _as_stored(detail),
        "key_id": keys_of(session).current.id,
    }
    if autocommit_connection(session) is not None:
        # Each statement its own transaction: no chain to keep, the row goes to its subject's.
        fields["chain"] = chain_of(subject)
        return fields
    await session.connection()  # begins the transaction the chain is kept for
    transaction = session.get_transaction()
    held = session.info.get(_HELD)
    if held is not None and held[0] is transaction:
        fields["chain"] = held[1]
    else:
        fields["chain"] = chain_of(subject)
        session.info[_HELD] = (transaction, fields["chain"])
    return fields


def _as_stored(detail: dict[str, Any]) -> dict[str, Any]:
    """`detail` as its JSON column reads it back (tuples as lists, other objects as their text):
    copied as it is when every value is text or null (a token's scope and error), which the JSON
    round trip would give back unchanged."""
    if all(value is None or type(value) is str for value in detail.values()):
        return dict(detail)
    loaded: dict[str, Any] = json.loads(json.dumps(detail, default=str))
    return loaded


def release_chain(session: AsyncSession) -> None:
    """Forget the chain `entry_of` chose for this transaction: the entry it was chosen for was
    not written (a filing planned again), so the next entry goes to its own subject's chain."""
    session.info.pop(_HELD, None)


def append_parameters(session: AsyncSession, entry: AuditEntry) -> dict[str, Any]:
    """PostgreSQL: the parameters of `repository.append_when`'s CTEs appending `entry`."""
    return parameters_of(session, attributes(entry, repository.COLUMNS))


def parameters_of(session: AsyncSession, fields: dict[str, Any]) -> dict[str, Any]:
    """`append_parameters` of a row given by its fields (`fields_of`)."""
    content = canonical_content(**{name: fields[name] for name in _HASHED})
    return repository.parameters(fields, content, keys_of(session).current.pads())


async def append(session: AsyncSession, entry: AuditEntry) -> AuditEntry:
    """`entry` (from `entry_of`) appended to its chain."""
    if session.get_bind().dialect.name != "postgresql":
        return await _append_here(session, entry, keys_of(session).current)
    parameters = append_parameters(session, entry)
    entry.id, entry.prev_hash, entry.hash = await _appended(session, entry.chain, parameters)
    return entry  # not in the session: the row is written and never changes


async def write(
    session: AsyncSession,
    action: str,
    *,
    actor: Actor,
    subject: str | None,
    now: datetime | None = None,
    **detail: Any,
) -> None:
    """`record`, for a caller that needs nothing of the row back (every token issued or
    refused): on PostgreSQL the statement's parameters are made from the row's fields, no model
    built and none given its id and hashes. The same row, in the same chain, with the same
    hash."""
    if session.get_bind().dialect.name != "postgresql":
        await record(session, action, actor=actor, subject=subject, now=now, **detail)
        return
    fields = await fields_of(session, action, actor=actor, subject=subject, now=now, **detail)
    await _appended(session, fields["chain"], parameters_of(session, fields))


async def _appended(
    session: AsyncSession, chain: int, parameters: dict[str, Any]
) -> tuple[int, str, str]:
    """PostgreSQL: the row of `parameters` appended to `chain`: its id, previous hash and hash."""
    appended = await repository.append(session, parameters)
    if appended is None:  # the chain's first row: no head yet
        await repository.create_head(session, chain, GENESIS)
        appended = await repository.append(session, parameters)
        assert appended is not None, "the chain's head was just written"
    return appended


async def _append_here(session: AsyncSession, entry: AuditEntry, key: AuditKey) -> AuditEntry:
    """SQLite (a quick local run): the MAC computed here. The first write takes the database's
    write lock, so the head read next cannot change before this transaction commits."""
    await repository.create_head(session, entry.chain, GENESIS)
    head = await repository.head(session, entry.chain)
    entry.prev_hash = head.hash
    entry.hash = key.mac(chained(entry.prev_hash, entry))
    head.prev_hash, head.hash = entry.prev_hash, entry.hash
    session.add(entry)
    await session.flush()
    return entry
