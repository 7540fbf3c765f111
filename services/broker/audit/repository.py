"""All SQL of the audit log: the one-statement append, the chains' heads, the walk's reads, and
whether the database role may change its rows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    LargeBinary,
    bindparam,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.dml import ReturningInsert

from core.db import connection_of
from core.driver import DriverStatement
from core.models.audit import AuditChainHead, AuditEntry

_BATCH = 1000  # rows the walk holds at a time
# A row's columns as the append binds them (all but its id and hashes)
COLUMNS = (
    "occurred_at", "actor", "client_id", "person_id", "action", "subject", "detail", "chain",
    "key_id",
)  # fmt: skip
GENESIS = "0" * 64  # the previous hash of a chain's first row


def _mac(previous: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[str]:
    """HMAC-SHA256 as RFC 2104 defines it, over the pads of audit/keys.py, of `previous|content`."""
    message = func.convert_to(previous.concat("|").concat(bindparam("new_content")), "UTF8")
    return func.encode(
        func.sha256(
            bindparam("new_outer_pad", type_=LargeBinary).concat(
                func.sha256(bindparam("new_inner_pad", type_=LargeBinary).concat(message))
            )
        ),
        "hex",
    )


_HEAD = (
    update(AuditChainHead)
    .where(AuditChainHead.chain == bindparam("new_chain"))
    .values(prev_hash=AuditChainHead.hash, hash=_mac(AuditChainHead.hash))  # SET sees the old row
    .returning(AuditChainHead.prev_hash, AuditChainHead.hash)
    .cte("head")
)


def _head_or_first(when: ColumnElement[bool]) -> CTE:
    """The head updated as `_HEAD` updates it, or, for the chain's first row, written with the
    genesis hash as the previous one: no second statement when the chain has no head yet."""
    genesis = literal(GENESIS)
    chain = bindparam("new_chain", type_=AuditChainHead.chain.type)
    first = select(chain, genesis, _mac(genesis)).where(when)
    return (
        postgresql.insert(AuditChainHead)
        .from_select(["chain", "prev_hash", "hash"], first)
        .on_conflict_do_update(
            index_elements=[AuditChainHead.chain],
            set_={"prev_hash": AuditChainHead.hash, "hash": _mac(AuditChainHead.hash)},
        )
        .returning(AuditChainHead.prev_hash, AuditChainHead.hash)
        .cte("head")
    )


def _entry(head: CTE) -> ReturningInsert[int, str, str]:
    return (
        insert(AuditEntry)
        .from_select(
            [*COLUMNS, "prev_hash", "hash"],
            select(
                *(
                    bindparam(f"new_{name}", type_=AuditEntry.__table__.c[name].type)
                    for name in COLUMNS
                ),
                head.c.prev_hash,
                head.c.hash,
            ),
        )
        .returning(AuditEntry.id, AuditEntry.prev_hash, AuditEntry.hash)
    )


# Built and compiled once, run on the driver on an autocommit connection (core/driver.py): each
# append only binds its values. WITH at the top: PostgreSQL wants data-modifying CTEs there.
_APPEND = DriverStatement(_entry(_HEAD).add_cte(_HEAD))


def append_when(when: ColumnElement[bool]) -> tuple[CTE, CTE]:
    """The append as two CTEs of another statement (the head's, then the entry's insert,
    returning its id, prev_hash and hash), done only if `when` holds; its parameters are
    `parameters`'. A chain with no head yet gets its head in the same statement."""
    head = _head_or_first(when)
    return head, _entry(head).cte("appended")


def parameters(
    fields: Mapping[str, Any], content: str, pads: tuple[bytes, bytes]
) -> dict[str, Any]:
    """The append's parameters (`fields`: the row's `COLUMNS`, by name; `content`: what the hash
    covers besides the previous hash; `pads`: the key's inner and outer pads)."""
    # Not named as columns: a parameter named as a column would be SET by the UPDATE too.
    values: dict[str, Any] = {f"new_{name}": fields[name] for name in COLUMNS}
    values["new_content"] = content
    values["new_inner_pad"], values["new_outer_pad"] = pads
    return values


async def append(session: AsyncSession, values: Mapping[str, Any]) -> tuple[int, str, str] | None:
    """PostgreSQL: the row `values` describes (from `parameters`) appended to its chain: its id,
    previous hash and hash as written. None, with nothing written, when the chain has no head
    yet."""
    # On the connection, not the session: a Core statement, with none of the ORM's bulk logic.
    connection = await connection_of(session)
    rows = await _APPEND.rows(connection, values)
    if not rows:
        return None
    appended: tuple[int, str, str] = rows[0]
    return appended


async def create_head(session: AsyncSession, chain: int, genesis: str) -> None:
    """The chain's head row, unless it has one."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(AuditChainHead)
        .values(chain=chain, prev_hash=genesis, hash=genesis)
        .on_conflict_do_nothing()
    )


async def head(session: AsyncSession, chain: int) -> AuditChainHead:
    """The chain's head row as the database has it now."""
    return await session.get_one(AuditChainHead, chain, populate_existing=True)


async def heads(session: AsyncSession) -> dict[int, str]:
    """Each chain's newest hash."""
    return {h.chain: h.hash for h in await session.scalars(select(AuditChainHead))}


async def entries(session: AsyncSession) -> AsyncIterator[AuditEntry]:
    """Every row, oldest first, streamed."""
    # yield_per: without it the ORM builds every row of the result before the first is seen.
    query = select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=_BATCH)
    result = await session.stream_scalars(query)
    async for entry in result:
        yield entry


async def heads_with_rows(session: AsyncSession) -> list[tuple[int, str, int]]:
    """(chain, head hash, id of the row with that hash) of every chain that has rows."""
    result = await session.execute(
        select(AuditChainHead.chain, AuditChainHead.hash, AuditEntry.id)
        .join(AuditEntry, AuditEntry.hash == AuditChainHead.hash)
        .order_by(AuditChainHead.chain)
    )
    return [(chain, hash_, row) for chain, hash_, row in result]


async def count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(AuditEntry)) or 0


_WRITABLE = text(
    "SELECT has_table_privilege('audit_log', 'UPDATE') OR has_table_privilege('audit_log', "
    "'DELETE') OR has_table_privilege('audit_log', 'TRUNCATE')"
)


async def role_may_change_rows(connection: AsyncConnection) -> bool:
    """PostgreSQL: whether the connection's role may UPDATE, DELETE or TRUNCATE audit_log."""
    return bool(await connection.scalar(_WRITABLE))
