"""Each relay's fair share of the shards, and the sole owner of a database without locks."""

from __future__ import annotations

from typing import Any

import pytest

from broker.outbox.shards import AdvisoryShards, SoleOwner, fair_share, ownership_for
from core.models.outbox import SHARDS


@pytest.mark.parametrize("relays", range(1, 2 * SHARDS + 2))
def test_the_shares_leave_room_for_every_shard_and_no_relay_takes_twice_its_due(
    relays: int,
) -> None:
    share = fair_share(relays)
    assert share * relays >= SHARDS
    assert (share - 1) * relays < SHARDS


def test_no_relay_counted_is_one_relay() -> None:
    assert fair_share(0) == SHARDS


async def test_the_sole_owner_owns_every_shard_once_connected_and_none_after() -> None:
    owner = SoleOwner()
    connection: Any = None  # it runs no statement
    assert owner.owned == frozenset()

    await owner.join(connection)
    await owner.keep(connection)

    assert owner.owned == frozenset(range(SHARDS))
    assert owner.rest(0.5) == 0.5
    assert owner.forget() == []
    assert owner.owned == frozenset()


def test_postgresql_shares_the_shards_and_sqlite_has_one_owner() -> None:
    assert isinstance(ownership_for("postgresql", claim_interval=1.0), AdvisoryShards)
    assert isinstance(ownership_for("sqlite", claim_interval=1.0), SoleOwner)
