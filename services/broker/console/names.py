"""The names people read for the ids a page shows (organisations, datasets), in one query each,
and the divisions (行政区划) a return request may name."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from broker.console import repository
from broker.requests.filing.validation import division_contains


async def organisation_names(
    session: AsyncSession, ids: Iterable[str], lang: str
) -> dict[str, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await repository.organisations_named(session, wanted)
    return {id_: (en if lang == "en" else zh) for id_, zh, en in rows}


async def dataset_names(
    session: AsyncSession, ids: Iterable[str | None], lang: str
) -> dict[str, str]:
    """Names of the datasets among `ids` (None: a request that names none, as an IT project)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await repository.datasets_named(session, wanted)
    return {id_: (en if lang == "en" and en else zh) for id_, zh, en in rows}


async def divisions_within(
    session: AsyncSession, division_code: str, lang: str
) -> list[tuple[str, str]]:
    """The divisions a return may cover for a body of `division_code`: its own and those below,
    as (code, the name of that division's government), in code order."""
    return [
        (code, en if lang == "en" else zh)
        for code, zh, en in await repository.governments_of_province(session, division_code)
        if division_contains(division_code, code)
    ]
