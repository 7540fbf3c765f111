"""Checking the audit log: `cdo-broker audit verify` and `cdo-broker audit anchor`.

`verify` walks the rows in id order, each chain from its genesis, and names the first row that
does not fit its chain: a row edited (its MAC no longer matches), removed (the next row's
`prev_hash` names it) or moved to another chain. It then checks that each chain reaches the head
recorded in `audit_chain_heads`, so the newest rows of a chain cannot be removed unnoticed
unless the head row is rewritten as well, and that each anchor given still lies on its chain.

Rows from before the chain was keyed (key_id null, plain SHA-256) are accepted only as the
start of their chain, followed by a keyed row: the keyed row's MAC covers the last of them, so
none can be changed without the key. An unkeyed row after a keyed one, or unkeyed rows that no
keyed row follows, are rows someone rewrote without the key.

An anchor is what `anchor` prints: each chain's head hash and row, the row count and the time,
as JSON to keep outside the database (a ticket, the daily report, a signed mail). A chain cut
back past an anchored head, or dropped with its head row, no longer contains that head.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import repository
from broker.audit.keys import AuditKeys
from broker.audit.service import GENESIS, chained, keys_of, legacy_hash
from core.clock import utcnow
from core.models.audit import AuditEntry

REMOVED_BEFORE = "a row before it was removed or changed"
CHANGED = "its content was changed"


@dataclass(frozen=True)
class Verdict:
    rows: int
    broken_at: int | None  # the id of the first row that does not fit the chain
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


@dataclass
class _Walk:
    """What the walk has seen of each chain so far."""

    heads: dict[int, str] = field(default_factory=dict)  # newest hash
    last: dict[int, int] = field(default_factory=dict)  # newest row id
    keyed: set[int] = field(default_factory=set)  # chains that have had a keyed row
    unsealed: dict[int, int] = field(default_factory=dict)  # first unkeyed row no keyed one follows
    hashes: dict[int, dict[str, int]] = field(default_factory=dict)  # anchored hash -> row id


def _misfit(entry: AuditEntry, previous: str, walk: _Walk, keys: AuditKeys) -> str | None:
    """Why `entry` does not fit its chain, or None."""
    if entry.prev_hash != previous:  # also a row moved here from another chain
        return REMOVED_BEFORE
    if entry.key_id is None:
        if entry.chain in walk.keyed:
            return "its hash is not keyed with AUDIT_KEY, after keyed rows"
        return CHANGED if legacy_hash(previous, entry) != entry.hash else None
    key = keys.get(entry.key_id)
    if key is None:
        return f"it was keyed with key {entry.key_id}, which AUDIT_KEY does not hold"
    return CHANGED if key.mac(chained(previous, entry)) != entry.hash else None


async def verify(session: AsyncSession, anchors: Sequence[Mapping[str, Any]] = ()) -> Verdict:
    keys = keys_of(session)
    # The heads are read before the rows: rows appended meanwhile only add to what is walked.
    recorded = await repository.heads(session)
    wanted = _anchored(anchors)
    walk = _Walk()
    reached = {chain for chain, head in recorded.items() if head == GENESIS}
    rows = 0
    async for entry in repository.entries(session):
        rows += 1
        previous = walk.heads.get(entry.chain, GENESIS)
        if why := _misfit(entry, previous, walk, keys):
            return Verdict(rows, entry.id, why)
        if entry.key_id is None:
            walk.unsealed.setdefault(entry.chain, entry.id)
        else:
            walk.keyed.add(entry.chain)
            walk.unsealed.pop(entry.chain, None)
        walk.heads[entry.chain], walk.last[entry.chain] = entry.hash, entry.id
        if recorded.get(entry.chain) == entry.hash:
            reached.add(entry.chain)
        if entry.hash in wanted.get(entry.chain, {}):
            walk.hashes.setdefault(entry.chain, {})[entry.hash] = entry.id
    if walk.unsealed:
        chain, first = min(walk.unsealed.items(), key=lambda item: item[1])
        return Verdict(rows, first, f"unkeyed rows of chain {chain} that no keyed row follows")
    cut = sorted(set(recorded) - reached)
    if cut:
        where = walk.last.get(cut[0], 0)
        return Verdict(rows, where, f"the newest rows of chain {cut[0]} were removed")
    for chain, heads in sorted(wanted.items()):
        for head, row in heads.items():
            if walk.hashes.get(chain, {}).get(head) != row:
                return Verdict(
                    rows,
                    row,
                    f"chain {chain} no longer holds its anchored head (row {row}): rows up to "
                    "it were removed or changed",
                )
    return Verdict(rows, None, None)


def _anchored(anchors: Sequence[Mapping[str, Any]]) -> dict[int, dict[str, int]]:
    """Per chain, each anchored head hash and the id of its row."""
    wanted: dict[int, dict[str, int]] = {}
    for anchor in anchors:
        for chain, head in anchor["heads"].items():
            wanted.setdefault(int(chain), {})[str(head["hash"])] = int(head["row"])
    return wanted


async def anchor(session: AsyncSession) -> dict[str, Any]:
    """Each chain's head (its hash and row id), the row count and the time, to keep elsewhere."""
    taken_at = utcnow()
    heads = await repository.heads_with_rows(session)
    rows = await repository.count(session)
    return {
        "taken_at": taken_at.isoformat(),
        "rows": rows,
        "heads": {str(chain): {"hash": head, "row": row} for chain, head, row in heads},
    }
