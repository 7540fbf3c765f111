"""The connection the notifier's statements run on: a database connection a loop keeps for its
single-statement work, in autocommit mode.

A transaction around one statement costs BEGIN and COMMIT round trips, and a checkout per
statement its own overhead. A loop that runs one self-contained statement at a time keeps one
connection instead, with neither. Any error gives the connection back: the next statement starts
from a fresh checkout, which is also how a PostgreSQL restart is survived."""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy import Executable, Result
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker


class AutocommitConnection:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessionmaker
        self._session: AsyncSession | None = None
        self._connection: AsyncConnection | None = None

    async def execute(self, statement: Executable, params: dict[str, Any]) -> Result[Any]:
        connection = await self._connected()
        try:
            return await connection.execute(statement, params)
        except BaseException:
            await self.close()
            raise

    async def _connected(self) -> AsyncConnection:
        if self._connection is None:
            session = self._sessions()
            try:
                self._connection = await session.connection(
                    execution_options={"isolation_level": "AUTOCOMMIT"}
                )
            except BaseException:
                await session.close()
                raise
            self._session = session
        return self._connection

    async def close(self) -> None:
        session, self._session, self._connection = self._session, None, None
        if session is not None:
            with contextlib.suppress(Exception):
                await session.close()
