"""The catalog's version, which filing's per-process copies of datasets are checked against
(`requests/filing/copies.py`): a counter each change to `datasets` bumps in its own transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models.catalog import CatalogVersion, Dataset
from testing.organisations import fresh_body, fresh_dataset
from testing.versions import around_a_change, bumped_at_commit, triggered_tables

pytestmark = pytest.mark.integration

Sessions = async_sessionmaker[AsyncSession]


async def test_the_datasets_table_bumps_the_version(sessionmaker: Sessions) -> None:
    triggered = await triggered_tables(sessionmaker, "bump_catalog_version")
    assert triggered == {Dataset.__tablename__}


async def test_a_change_bumps_the_version_in_its_transaction_and_only_if_it_commits(
    sessionmaker: Sessions,
) -> None:
    dataset = await fresh_dataset(sessionmaker, await fresh_body(sessionmaker))
    touch = update(Dataset).where(Dataset.id == dataset).values(name=Dataset.name)

    seen = await around_a_change(sessionmaker, CatalogVersion.version, touch)

    assert bumped_at_commit(seen), seen
