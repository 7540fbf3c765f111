"""The audit log: every security-relevant action, hash-chained so an edit or a deletion shows.

The log is `CHAINS` hash chains, not one: one chain serialised every audited write in the system
(every token issued, every decision) behind one lock held until commit; with several, only
writes whose subjects share a chain wait for each other. A row goes to the chain of its subject,
or, after the first audited row of a transaction, to that row's chain, so that one transaction
holds one chain and two cannot deadlock on chains.

Each chain's newest hash is kept in `audit_chain_heads`. On PostgreSQL one statement appends:
it updates the head row (whose lock, held until commit, orders the chain; a writer that waited
for it computes from the hash its predecessor committed) and inserts the entry with the
previous and the new hash, computed by the database (sha256 over the same text as
`entry_hash`). `verify` walks the rows in id order, each chain from its genesis, names the first
row that does not fit its chain, and checks that each chain reaches its recorded head, so the
newest rows of a chain cannot be removed unnoticed unless the head row is rewritten as well.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit.actor import Actor
from broker.audit.models import AuditChainHead, AuditEntry
from broker.kit.clock import utcnow

GENESIS = "0" * 64
# Changing it only changes where new rows go: verification reads each row's stored chain.
CHAINS = 16
_HELD = "audit_chain"  # session.info: (the transaction, the chain it appends to)

_COLUMNS = (
    "occurred_at", "actor", "client_id", "person_id", "action", "subject", "detail", "chain",
)  # fmt: skip
_head = (
    update(AuditChainHead)
    .where(AuditChainHead.chain == bindparam("new_chain"))
    .values(
        prev_hash=AuditChainHead.hash,  # SET expressions see the row before this update
        hash=func.encode(
            func.sha256(
                func.convert_to(
                    AuditChainHead.hash.concat("|").concat(bindparam("new_content")), "UTF8"
                )
            ),
            "hex",
        ),
    )
    .returning(AuditChainHead.prev_hash, AuditChainHead.hash)
    .cte("head")
)
# Built once: each append only binds its values, so compiling and caching cost nothing.
_APPEND = (
    insert(AuditEntry)
    .add_cte(_head)  # WITH at the top: PostgreSQL wants data-modifying CTEs there
    .from_select(
        [*_COLUMNS, "prev_hash", "hash"],
        select(
            *(
                bindparam(f"new_{name}", type_=AuditEntry.__table__.c[name].type)
                for name in _COLUMNS
            ),
            _head.c.prev_hash,
            _head.c.hash,
        ),
    )
    .returning(AuditEntry.id, AuditEntry.prev_hash, AuditEntry.hash)
)


def chain_of(subject: str | None) -> int:
    """The chain of a subject: a stable hash, the same in every process."""
    return zlib.crc32(subject.encode()) % CHAINS if subject else 0


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256(f"{prev_hash}|{_canonical(entry)}".encode()).hexdigest()


def _canonical(entry: AuditEntry) -> str:
    content = {
        "occurred_at": entry.occurred_at.isoformat(),
        "actor": entry.actor,
        "client_id": entry.client_id,
        "action": entry.action,
        "subject": entry.subject,
        "detail": entry.detail,
    }
    if entry.person_id is not None:
        # Only when there is one: rows written before the column existed hash as they did.
        content["person_id"] = entry.person_id
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


async def record(
    session: AsyncSession,
    action: str,
    *,
    actor: Actor,
    subject: str | None,
    now: datetime | None = None,
    **detail: Any,
) -> AuditEntry:
    entry = AuditEntry(
        occurred_at=now or utcnow(),
        actor=actor.org_id,
        client_id=actor.client_id,
        person_id=actor.person_id,
        action=action,
        subject=subject,
        detail=json.loads(json.dumps(detail, default=str)),
    )
    connection = await session.connection()  # begins the transaction the chain is kept for
    transaction = session.get_transaction()
    held = session.info.get(_HELD)
    if held is not None and held[0] is transaction:
        entry.chain = held[1]
    else:
        entry.chain = chain_of(subject)
        session.info[_HELD] = (transaction, entry.chain)
    if session.get_bind().dialect.name != "postgresql":
        return await _append_here(session, entry)
    # Not named as columns: a parameter named as a column would be SET by the UPDATE too.
    values = {f"new_{name}": getattr(entry, name) for name in _COLUMNS}
    values["new_content"] = _canonical(entry)
    # On the connection, not the session: a Core statement, with none of the ORM's bulk logic.
    row = (await connection.execute(_APPEND, values)).one_or_none()
    if row is None:  # the chain's first row: no head yet
        await _create_head(session, entry.chain)
        row = (await connection.execute(_APPEND, values)).one()
    entry.id, entry.prev_hash, entry.hash = row
    return entry  # not in the session: the row is written and never changes


async def _create_head(session: AsyncSession, chain: int) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(AuditChainHead)
        .values(chain=chain, prev_hash=GENESIS, hash=GENESIS)
        .on_conflict_do_nothing()
    )


async def _append_here(session: AsyncSession, entry: AuditEntry) -> AuditEntry:
    """SQLite (a quick local run): the hash computed here. The first write takes the database's
    write lock, so the head read next cannot change before this transaction commits."""
    await _create_head(session, entry.chain)
    head = await session.get_one(AuditChainHead, entry.chain, populate_existing=True)
    entry.prev_hash = head.hash
    entry.hash = entry_hash(entry.prev_hash, entry)
    head.prev_hash, head.hash = entry.prev_hash, entry.hash
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True)
class Verdict:
    rows: int
    broken_at: int | None  # the id of the first row that does not fit the chain
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


async def _entries(session: AsyncSession) -> AsyncIterator[AuditEntry]:
    result = await session.stream_scalars(select(AuditEntry).order_by(AuditEntry.id))
    async for entry in result:
        yield entry


async def verify(session: AsyncSession) -> Verdict:
    # The heads are read before the rows: rows appended meanwhile only add to what is walked.
    recorded = {h.chain: h.hash for h in await session.scalars(select(AuditChainHead))}
    heads: dict[int, str] = {}  # each chain's newest hash so far
    last: dict[int, int] = {}  # each chain's newest row so far
    reached = {chain for chain, head in recorded.items() if head == GENESIS}
    rows = 0
    async for entry in _entries(session):
        rows += 1
        previous = heads.get(entry.chain, GENESIS)
        # A row moved to another chain fails here too: its prev_hash is of its old chain.
        if entry.prev_hash != previous:
            return Verdict(rows, entry.id, "a row before it was removed or changed")
        if entry_hash(previous, entry) != entry.hash:
            return Verdict(rows, entry.id, "its content was changed")
        heads[entry.chain], last[entry.chain] = entry.hash, entry.id
        if recorded.get(entry.chain) == entry.hash:
            reached.add(entry.chain)
    cut = sorted(set(recorded) - reached)
    if cut:
        return Verdict(rows, last.get(cut[0], 0), f"the newest rows of chain {cut[0]} were removed")
    return Verdict(rows, None, None)
