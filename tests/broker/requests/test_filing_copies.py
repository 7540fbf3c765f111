"""Filing from the process's copies (`requests/filing/copies.py`): once its requester, dataset
and owner are kept a filing is one round trip, and a change committed by another session to the
catalog or the directory after they were kept is seen by the next filing; a replayed
Idempotency-Key answers as before, whichever way it is found; a refusal is the database's; a
filing that finds a change at every write gives up having written nothing."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.audit.service import chain_of
from broker.kit.problems import ServiceUnavailable
from broker.requests.exceptions import NotShareable
from broker.requests.filing import repository
from broker.requests.filing import rows as filing_rows
from broker.requests.filing.service import Filed
from core.ids import new_id
from core.models.audit import AuditEntry
from core.models.catalog import Dataset
from core.models.directory import Appointment, Organisation
from core.models.outbox import OutboxEvent
from core.models.requests import DataRequest
from testing.clients import Headers, file
from testing.filing import file_directly
from testing.organisations import fresh_body, fresh_dataset
from testing.workloads import request_body

pytestmark = pytest.mark.integration

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def autocommit(sessionmaker: Sessions) -> Sessions:
    """Sessions as the endpoint files with: outside a transaction."""
    options = dict(sessionmaker.kw)  # the audit keys among them
    engine = options.pop("bind").execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(engine, **options)


async def _round_trips(
    app: FastAPI, autocommit: Sessions, requester: str, body: dict[str, Any]
) -> tuple[Filed, list[str]]:
    """A filing on an autocommit session, and what it sent: each statement, and BEGIN and COMMIT
    where it opened a transaction (as `bench/run filing_cpu` counts them)."""
    sent: list[str] = []

    def executed(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement.split(None, 1)[0])

    def transaction(conn: Any) -> None:  # SQLAlchemy says "begin" in autocommit mode too
        if not conn._is_autocommit_isolation():
            sent.append("BEGIN/COMMIT")

    engine = autocommit.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", executed)
    event.listen(engine, "begin", transaction)
    event.listen(engine, "commit", transaction)
    try:
        async with autocommit() as session:
            filed = await file_directly(session, app, requester, body)
    finally:
        event.remove(engine, "before_cursor_execute", executed)
        event.remove(engine, "begin", transaction)
        event.remove(engine, "commit", transaction)
    return filed, sent


async def _parties(sessionmaker: Sessions) -> tuple[str, str, str, str]:
    """A requester, an owner and another body (each with a CDO) and a dataset of the owner's,
    all this test's own."""
    requester, owner, other = [await fresh_body(sessionmaker) for _ in range(3)]
    return requester, owner, other, await fresh_dataset(sessionmaker, owner)


class _ChangedAfterReads:
    """Filing's context read, with `touch` committed by another session right after each of the
    first `reads` reads: each of those reads is out of date before its filing writes."""

    def __init__(self, sessionmaker: Sessions, touch: Any, *, reads: int) -> None:
        self.sessionmaker, self.touch, self.changes = sessionmaker, touch, reads
        self.context = repository.context
        self.reads = 0

    async def __call__(self, *args: Any) -> Any:
        read = await self.context(*args)
        self.reads += 1
        if self.reads <= self.changes:
            await _committed(self.sessionmaker, self.touch)
        return read


async def _committed(sessionmaker: Sessions, *statements: Any) -> None:
    """Changes made by another session, committed."""
    async with sessionmaker() as session:
        for statement in statements:
            await session.execute(statement)
        await session.commit()


async def test_a_filing_whose_parties_are_kept_is_one_round_trip(
    app: FastAPI, sessionmaker: Sessions, autocommit: Sessions
) -> None:
    requester, _, _, dataset = await _parties(sessionmaker)
    body = request_body(dataset, ["code"])

    first, read = await _round_trips(app, autocommit, requester, body)
    second, sent = await _round_trips(app, autocommit, requester, body)

    assert first.created
    assert second.created
    assert second.route is not None
    assert second.route.steps
    # the context read (then the directory's rows, new bodies having changed it), the write
    assert (read[0], read[-1]) == ("SELECT", "WITH"), read
    assert sent == ["WITH"], sent  # the write alone


async def test_a_dataset_changed_elsewhere_is_seen_by_the_next_filing(
    app: FastAPI, sessionmaker: Sessions, autocommit: Sessions
) -> None:
    requester, owner, other, dataset = await _parties(sessionmaker)
    body = request_body(dataset, ["code"])
    await _round_trips(app, autocommit, requester, body)  # read, and kept
    kept, sent = await _round_trips(app, autocommit, requester, body)
    assert (kept.request.provider_id, sent) == (owner, ["WITH"])

    await _committed(
        sessionmaker, update(Dataset).where(Dataset.id == dataset).values(owner_id=other)
    )
    moved, sent = await _round_trips(app, autocommit, requester, body)
    assert moved.request.provider_id == other
    # the write found the catalog changed, wrote nothing; read again, planned again, written
    assert sent == ["WITH", "SELECT", "WITH"], sent
    again, sent = await _round_trips(app, autocommit, requester, body)
    assert (again.request.provider_id, sent) == (other, ["WITH"])  # kept again, as read

    await _committed(
        sessionmaker,
        update(Dataset).where(Dataset.id == dataset).values(sharing_class="not_shareable"),
    )
    with pytest.raises(NotShareable):
        await _round_trips(app, autocommit, requester, body)


async def test_a_directory_change_elsewhere_is_seen_by_the_next_filing(
    app: FastAPI, sessionmaker: Sessions, autocommit: Sessions
) -> None:
    requester, owner, _, dataset = await _parties(sessionmaker)
    body = request_body(dataset, ["code"])
    await _round_trips(app, autocommit, requester, body)
    kept, sent = await _round_trips(app, autocommit, requester, body)
    assert sent == ["WITH"]
    assert kept.cdo_names.get(owner) == "安测试"

    renamed = f"新名{secrets.token_hex(3)}"
    await _committed(
        sessionmaker,
        update(Appointment).where(Appointment.organisation_id == owner).values(person_name="新官"),
        update(Organisation).where(Organisation.id == requester).values(name=renamed),
    )
    changed, sent = await _round_trips(app, autocommit, requester, body)

    assert changed.cdo_names.get(owner) == "新官"
    # the write found the directory changed, wrote nothing; the context read and the directory's
    # three tables read again, planned again, written
    assert sent == ["WITH", "SELECT", "SELECT", "SELECT", "SELECT", "WITH"], sent
    async with sessionmaker() as session:
        tasks = [
            e.data
            for e in await session.scalars(select(OutboxEvent))
            if isinstance(e.data, dict) and e.data.get("request_id") == changed.request.id
        ]
    named = {t["requester"]["name"] for t in tasks if isinstance(t.get("requester"), dict)}
    assert named == {renamed}, tasks


async def test_a_replayed_key_answers_as_before_whether_the_write_or_the_read_finds_it(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions
) -> None:
    """Replayed while the dataset is kept, the write's conflict finds the earlier request; replayed
    after the dataset became not shareable, the kept copy is stale and the context read finds it:
    the same answer both times, as a replay has always been answered."""
    requester, _, _, dataset = await _parties(sessionmaker)
    headers = await as_org(requester)
    body = request_body(dataset, ["code"])
    key = {"Idempotency-Key": secrets.token_hex(8)}
    warm = await file(client, headers, request_body(dataset, ["code"]))
    assert warm.status_code == 201, warm.text

    first = await file(client, headers, body, extra_headers=key)
    by_write = await file(client, headers, body, extra_headers=key)
    await _committed(
        sessionmaker,
        update(Dataset).where(Dataset.id == dataset).values(sharing_class="not_shareable"),
    )
    by_read = await file(client, headers, body, extra_headers=key)
    other = await file(client, headers, body | {"purpose": "另一目的"}, extra_headers=key)
    unkeyed = await file(client, headers, body)

    assert first.status_code == 201, first.text
    for replay in (by_write, by_read):
        assert replay.status_code == 200, replay.text
        assert replay.headers["Location"] == first.headers["Location"]
        assert replay.json()["id"] == first.json()["id"]
    assert by_write.json() == by_read.json()
    assert by_write.headers["content-type"] == by_read.headers["content-type"]
    assert other.status_code == 409, other.text
    assert unkeyed.status_code == 422, unkeyed.text
    assert unkeyed.json()["type"].endswith("/not-shareable")


async def test_a_filing_whose_catalog_changes_at_every_read_writes_nothing_and_says_so(
    app: FastAPI,
    sessionmaker: Sessions,
    autocommit: Sessions,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A change committed by another session after each of its context reads: each write finds
    the catalog changed and writes nothing; after five the filing gives up (503), having written
    nothing, instead of planning from what it read."""
    requester, _, _, dataset = await _parties(sessionmaker)
    body = request_body(dataset, ["code"])
    touch = update(Dataset).where(Dataset.id == dataset).values(name=Dataset.name)
    changing = _ChangedAfterReads(sessionmaker, touch, reads=5)
    monkeypatch.setattr(repository, "context", changing)
    tables = (DataRequest, OutboxEvent, AuditEntry)
    async with sessionmaker() as session:
        before = [await session.scalar(select(func.count()).select_from(t)) for t in tables]

    with pytest.raises(ServiceUnavailable) as refused:
        await _round_trips(app, autocommit, requester, body)

    async with sessionmaker() as session:
        after = [await session.scalar(select(func.count()).select_from(t)) for t in tables]
    assert changing.reads == 5
    assert after == before  # no request, no event, no audit row
    assert refused.value.headers == {"Retry-After": "1"}


async def test_a_filing_planned_again_is_audited_in_its_own_request_s_chain(
    app: FastAPI,
    sessionmaker: Sessions,
    autocommit: Sessions,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The catalog changed once after the first read: the first write finds it changed and writes
    nothing, the second files. Its audit row goes to the chain of its own request (the subject's),
    not to the one chosen for the request the first attempt planned and never wrote."""
    requester, _, _, dataset = await _parties(sessionmaker)
    touch = update(Dataset).where(Dataset.id == dataset).values(name=Dataset.name)
    changing = _ChangedAfterReads(sessionmaker, touch, reads=1)
    monkeypatch.setattr(repository, "context", changing)
    # The two attempts' request ids in different chains, so that a row in the first attempt's
    # chain cannot pass for one in the second's.
    planned = new_id("req")
    written = next(i for i in iter(lambda: new_id("req"), "") if chain_of(i) != chain_of(planned))
    ids = iter([planned, written])
    monkeypatch.setattr(
        filing_rows, "new_id", lambda prefix: next(ids) if prefix == "req" else new_id(prefix)
    )

    filed, _ = await _round_trips(app, autocommit, requester, request_body(dataset, ["code"]))

    async with sessionmaker() as session:
        rows = (
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "request.filed", AuditEntry.subject == filed.request.id
                )
            )
        ).all()
    assert changing.reads == 2
    assert filed.request.id == written
    assert [row.chain for row in rows] == [chain_of(written)]


async def test_a_refusal_from_a_kept_copy_is_decided_again_from_the_database(
    app: FastAPI, sessionmaker: Sessions, autocommit: Sessions
) -> None:
    """A dataset kept while not shareable, made shareable by another session: the copy would
    refuse the next filing, which is decided from what the database holds now."""
    requester, owner, _, dataset = await _parties(sessionmaker)
    body = request_body(dataset, ["code"])
    not_shareable = update(Dataset).where(Dataset.id == dataset)
    await _committed(sessionmaker, not_shareable.values(sharing_class="not_shareable"))
    with pytest.raises(NotShareable):
        await _round_trips(app, autocommit, requester, body)  # read, and kept

    await _committed(sessionmaker, not_shareable.values(sharing_class="conditional"))
    filed, sent = await _round_trips(app, autocommit, requester, body)

    assert (filed.created, filed.request.provider_id) == (True, owner)
    assert sent == ["SELECT", "WITH"], sent  # planned from the copy, refused: read, written


async def test_what_a_transaction_read_of_its_own_writes_is_not_kept(
    app: FastAPI, sessionmaker: Sessions, autocommit: Sessions
) -> None:
    """A filing in a transaction that moved the dataset reads the move (and the catalog version
    it bumped); rolled back, and the catalog changed again by another commit, the next filing
    files with the owner the database holds, not with that read's."""
    requester, owner, other, dataset = await _parties(sessionmaker)
    body = request_body(dataset, ["code"])
    dataset_row = update(Dataset).where(Dataset.id == dataset)
    async with sessionmaker() as session:
        await session.execute(dataset_row.values(owner_id=other))
        inside = await file_directly(session, app, requester, body)
        await session.rollback()
    await _committed(sessionmaker, dataset_row.values(name=Dataset.name))

    filed, sent = await _round_trips(app, autocommit, requester, body)

    assert inside.request.provider_id == other
    assert filed.request.provider_id == owner
    assert sent == ["SELECT", "WITH"], sent  # nothing kept of that read: no attempt from it
