"""What the app's lifespan made, as typed FastAPI dependencies: endpoints declare `SessionDep`,
`SettingsDep`... instead of reading `request.app.state`. The lifespan (app.py) is the only writer of
`app.state`; these providers, and those of the domains' own resources (`<domain>/dependencies.py`),
are its only readers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: services flush, this commits once at the end."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# "function" scope: the commit happens before the response is sent, so a 2xx means durable.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
