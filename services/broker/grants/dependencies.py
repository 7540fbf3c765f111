"""The grant feed the lifespan (app.py) runs, as a typed dependency (kit/deps.py says how)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from broker.grants.feed import GrantFeed
from broker.kit.deps import AppResource

GRANT_FEED = AppResource[GrantFeed]("grant_feed")

GrantFeedDep = Annotated[GrantFeed, Depends(GRANT_FEED.provide)]
