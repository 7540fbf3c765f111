"""Every statement of the notifier, and nothing else.

The hot ones are each one round trip, atomic on its own (PostgreSQL). Every round trip costs CPU
on both ends as well as time, and the notifier makes them per batch rather than per delivery: one
INSERT records what a batch of messages asks for (`deliveries`: webhooks and messages to
notification channels) and leases the new webhooks the worker has free slots for, one UPDATE
claims the due deliveries left (`claims`), one UPDATE records a batch of attempts (`outcomes`).
None needs a transaction around it, so they run on a connection in autocommit mode (no BEGIN and
COMMIT round trips). Only a delivery's last outcome that must be atomic with more than its row
(`outcomes.finish`) runs in a transaction, the worker's.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import DateTime, Executable, Integer, Result, Text
from sqlalchemy.dialects.postgresql import ARRAY


class Executor(Protocol):
    """A session, a connection, or the notifier's own autocommit connection."""

    async def execute(self, statement: Executable, params: dict[str, Any]) -> Result[Any]: ...


TEXTS = ARRAY(Text)
STAMPS = ARRAY(DateTime(timezone=True))
INTS = ARRAY(Integer)
