"""audit keyed

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 11:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import context, op

if TYPE_CHECKING:
    from broker.audit.keys import AuditKeys

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_log = sa.table(
    "audit_log",
    sa.column("id", sa.BigInteger),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("client_id", sa.String),
    sa.column("action", sa.String),
    sa.column("subject", sa.String),
    sa.column("detail", sa.JSON),
    sa.column("chain", sa.SmallInteger),
    sa.column("key_id", sa.String),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)
_heads = sa.table(
    "audit_chain_heads",
    sa.column("chain", sa.SmallInteger),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def upgrade() -> None:
    # Rows from now on are MACs under AUDIT_KEY and name their key (broker/audit/keys.py).
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
    _seal_unkeyed_chains()


def _seal_unkeyed_chains() -> None:
    """Rows written so far are plain SHA-256 (key_id null). Each chain that has some gets one
    keyed row now, `audit.keyed`, whose MAC covers the last of them: verification accepts
    unkeyed rows only before such a row, so none can be rewritten without the key afterwards.
    Run it with the old brokers stopped: a row one of them appended after the seal would be
    unkeyed after a keyed one, which verification refuses."""
    from broker.audit.service import GENESIS, chained
    from core.models.audit import AuditEntry

    connection = op.get_bind()
    chains = connection.execute(
        sa.select(_heads.c.chain, _heads.c.hash).where(_heads.c.hash != GENESIS).with_for_update()
    ).all()
    if not chains:
        return  # a new database: nothing to seal, and no key needed
    key = _audit_keys().current
    now = datetime.now(UTC)
    for chain, head in chains:
        seal = AuditEntry(
            occurred_at=now,
            actor=None,
            client_id=None,
            action="audit.keyed",
            subject=None,
            detail={"key_id": key.id},
            chain=chain,
            key_id=key.id,
            prev_hash=head,
        )
        seal.hash = key.mac(chained(head, seal))
        connection.execute(
            sa.insert(_log).values(
                {
                    column.name: getattr(seal, column.name)
                    for column in _log.c
                    if column.name != "id"
                }
            )
        )
        connection.execute(
            sa.update(_heads).where(_heads.c.chain == chain).values(prev_hash=head, hash=seal.hash)
        )


def _audit_keys() -> "AuditKeys":
    """The keys `cdo-broker migrate` was given, or those of the environment's settings."""
    from broker.audit.keys import audit_keys_from_settings
    from broker.settings import BrokerSettings

    given = context.config.attributes.get("audit_keys")
    keys: AuditKeys = given() if given is not None else audit_keys_from_settings(BrokerSettings())
    return keys


def downgrade() -> None:
    # Keyed rows do not verify as plain SHA-256: the log verifies again only with this revision.
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("key_id")
