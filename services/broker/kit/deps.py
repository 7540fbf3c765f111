"""What the app's lifespan makes once and every request uses, as typed FastAPI dependencies:
endpoints declare `SessionDep`, `SettingsDep`, `RedisDep`... instead of reading `request.app.state`.

Each such thing has an `AppResource`, a typed key of `app.state` (as aiohttp's `web.AppKey`): the
lifespan (app.py) `put`s the value, the key's `provide` dependency reads it, and this module is the
only one that touches `app.state`. A domain's own resources keep their keys in the domain's
`dependencies.py` (oauth's keyring and authorization server, the grant feed, the routing policy),
so the kit imports no domain. A hot endpoint may read them itself (`AppResource.of`,
`sessions_of`): each dependency FastAPI solves is CPU on every call (the introspection's).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, FastAPI, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from broker.kit.ratelimit import RateLimiter
from broker.settings import BrokerSettings
from core.webhooks.secrets import SecretCipher, cipher_from_settings

T = TypeVar("T")


class AppResource(Generic[T]):
    """One thing the lifespan makes for every request, kept in `app.state.<name>`."""

    def __init__(self, name: str) -> None:
        self.name = name

        # A plain function, not a bound method: FastAPI reads a dependency's annotations from
        # its `__globals__`, and caches a dependency per request by the callable. `async`, though
        # it awaits nothing: FastAPI runs a plain `def` dependency in a worker thread, and that
        # hand-over cost more than a quarter of a token call's CPU.
        async def provide(request: Request) -> T:
            value: T = getattr(request.app.state, name)
            return value

        provide.__name__ = f"provide_{name}"
        self.provide: Callable[[Request], Awaitable[T]] = provide

    def of(self, request: Request) -> T:
        """The value, for a dependency that gathers several: each dependency FastAPI solves costs
        a hot endpoint's CPU (the introspection's eleven were a tenth of it)."""
        value: T = getattr(request.app.state, self.name)
        return value

    def put(self, app: FastAPI, value: T) -> T:
        """Called by the lifespan only."""
        setattr(app.state, self.name, value)
        return value


SETTINGS = AppResource[BrokerSettings]("settings")
ENGINE = AppResource[AsyncEngine]("engine")
SESSIONMAKER = AppResource[async_sessionmaker[AsyncSession]]("sessionmaker")
# The same sessions on connections in autocommit mode: each statement is its own transaction, so
# no BEGIN and COMMIT round trips. Only for calls whose every write is one statement.
AUTOCOMMIT_SESSIONMAKER = AppResource[async_sessionmaker[AsyncSession]]("autocommit_sessionmaker")
REDIS = AppResource[Redis | None]("redis")  # None: development without REDIS_URL
RATE_LIMITER = AppResource[RateLimiter]("rate_limiter")

SettingsDep = Annotated[BrokerSettings, Depends(SETTINGS.provide)]
EngineDep = Annotated[AsyncEngine, Depends(ENGINE.provide)]
RedisDep = Annotated[Redis | None, Depends(REDIS.provide)]
RateLimiterDep = Annotated[RateLimiter, Depends(RATE_LIMITER.provide)]


@dataclass(frozen=True)
class Sessions:
    """For an endpoint that chooses per call whether it needs a transaction."""

    transactional: async_sessionmaker[AsyncSession]
    autocommitting: async_sessionmaker[AsyncSession]

    @asynccontextmanager
    async def session(self, *, autocommit: bool = False) -> AsyncIterator[AsyncSession]:
        """Committed when the block ends, rolled back if it raises: a 2xx means durable."""
        async with (self.autocommitting if autocommit else self.transactional)() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def on_connection(self) -> AsyncIterator[AsyncSession]:
        """An autocommit session made on a connection of its own, for a call whose every write
        is one statement and that usually needs nothing of the ORM (a client-credentials token:
        one audit append): its Core statements run on the connection itself
        (`core.db.connection_of`), so the session's transaction is begun, and committed when the
        block ends, only if the ORM asks for it. Half the CPU of `session(autocommit=True)`."""
        engine = self.autocommitting.kw["bind"]
        assert isinstance(engine, AsyncEngine)
        async with engine.connect() as connection:
            session = self.autocommitting(bind=connection)
            try:
                yield session
                if session.in_transaction():
                    await session.commit()
            finally:
                if session.in_transaction():  # the block raised: nothing left begun
                    await session.close()


def sessions_of(request: Request) -> Sessions:
    """For a hot endpoint that reads its resources itself rather than as dependencies."""
    return Sessions(SESSIONMAKER.of(request), AUTOCOMMIT_SESSIONMAKER.of(request))


async def get_session(
    sessionmaker: Annotated[async_sessionmaker[AsyncSession], Depends(SESSIONMAKER.provide)],
) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: services flush, this commits once at the end."""
    async with Sessions(sessionmaker, sessionmaker).session() as session:
        yield session


# "function" scope: the commit happens before the response is sent, so a 2xx means durable.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def get_cipher(settings: SettingsDep) -> SecretCipher:
    """The cipher of webhook secrets and channel credentials (made once per configuration)."""
    # sync: FastAPI runs it in a thread, since the first call may create the development key
    return cipher_from_settings(settings)


CipherDep = Annotated[SecretCipher, Depends(get_cipher)]
