"""What start-up leaves alive is frozen out of the cycle collector's walks (`core/heap.py`), and
what is frozen still goes when it is replaced: a directory rebuild frees the cache before it."""

from __future__ import annotations

import gc
import weakref

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.app import create_app
from broker.directory import repository as directory_repository
from core.clock import utcnow
from core.models.directory import Organisation
from testing.settings import Settings

pytestmark = pytest.mark.integration


def _walked(thing: object) -> bool:
    """Whether a full collection walks `thing` (frozen objects are in no generation)."""
    return any(o is thing for o in gc.get_objects())


async def test_start_up_freezes_the_app_and_the_loaded_directory_and_shutdown_thaws(
    settings: Settings, seeded: object
) -> None:
    gc.unfreeze()  # another app of this run may have frozen the process already
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        cached, _ = directory_repository._cached[str(app.state.engine.url)]  # loaded at start
        assert gc.get_freeze_count() > 0
        assert not _walked(app)
        assert not _walked(cached.appointments)
    assert gc.get_freeze_count() == 0
    assert _walked(app)


async def test_the_directory_is_loaded_at_start_and_the_first_request_does_not_load_it_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, seeded: object
) -> None:
    directory_repository._cached.clear()  # an earlier app of this run may have loaded it
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert str(app.state.engine.url) in directory_repository._cached
        loads = 0
        load = directory_repository._load

        async def counted(session: AsyncSession, version: tuple[int, ...]) -> object:
            nonlocal loads
            loads += 1
            return await load(session, version)

        monkeypatch.setattr(directory_repository, "_load", counted)
        async with app.state.sessionmaker() as session:
            await directory_repository.current_view(session, utcnow())
        assert loads == 0


async def test_a_rebuilt_directory_frees_the_frozen_one_it_replaces(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], seeded: object
) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        key = str(app.state.engine.url)
        old = weakref.ref(directory_repository._cached[key][0])
        async with sessionmaker() as session:
            await session.execute(
                update(Organisation)
                .where(Organisation.id == "gz-rsj")
                .values(name=Organisation.name)  # a change: the directory's version moves on
            )
            await session.commit()
        async with sessionmaker() as session:
            await directory_repository.current_view(session, utcnow())
        assert directory_repository._cached[key][0] is not old()
        gc.collect()
        assert old() is None
