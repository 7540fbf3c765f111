"""`GET /v1/grants/changes`: a provider follows the changes of the grants on its datasets, and
`POST /v1/grants/uses`: it reports the uses its guard counted. Real HTTP (uvicorn), so the
stream streams; the same database as the suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.audit.actor import Actor
from broker.grants.feed import GrantFeed
from broker.grants.repository import last_position
from broker.grants.service import change_grant
from core.clock import utcnow
from core.events import GrantEventName
from core.models.grants import Grant, GrantChange
from testing.apps import served_app
from testing.clients import ALL_SCOPES, bearer, new_client, token_from
from testing.settings import Settings
from testing.sse import following, position
from testing.workloads import request_body

pytestmark = pytest.mark.integration
Sessions = async_sessionmaker[AsyncSession]
PROVIDER, DATASET = "gd-rst", "gd-rst-labour-dispatch-licences"  # unconditional: granted at once
OTHER, OTHER_DATASET = "gd-zrzyt", "gd-zrzyt-mining-rights"
GRANTEE = "hy-swj"  # files nothing in other tests: its grants are only these
FEED_SCOPES = "grants:read grants:revoke tokens:introspect"


@pytest.fixture(scope="module")
async def served(settings: Settings, seeded: object) -> AsyncIterator[tuple[str, FastAPI]]:
    async with served_app(settings, grant_feed_heartbeat_seconds=1.0) as (url, app):
        yield url, app


@pytest.fixture(scope="module")
def url(served: tuple[str, FastAPI]) -> str:
    return served[0]


async def _token(url: str, sessionmaker: Sessions, org: str, scope: str) -> str:
    client_id, secret = await new_client(sessionmaker, org, scope)
    async with httpx.AsyncClient(base_url=url) as http:
        return await token_from(http, client_id, secret)


async def _grant(url: str, sessionmaker: Sessions, dataset: str, fields: list[str]) -> str:
    token = await _token(url, sessionmaker, GRANTEE, ALL_SCOPES)
    async with httpx.AsyncClient(base_url=url) as http:
        filed = await http.post(
            "/v1/requests", headers=bearer(token), json=request_body(dataset, fields)
        )
    assert filed.status_code == 201, filed.text
    assert filed.json()["grant_id"], filed.json()
    return str(filed.json()["grant_id"])


async def _change(url: str, token: str, grant_id: str, action: str) -> dict[str, Any]:
    body = {"reason": "超出申请用途使用数据"} if action == "revoke" else {}
    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.post(
            f"/v1/grants/{grant_id}/{action}", headers=bearer(token), json=body
        )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def test_a_provider_hears_its_grants_change_and_no_one_elses(
    url: str, sessionmaker: Sessions
) -> None:
    mine = await _grant(url, sessionmaker, DATASET, ["licence_number"])
    theirs = await _grant(url, sessionmaker, OTHER_DATASET, ["licence_number"])
    provider = await _token(url, sessionmaker, PROVIDER, FEED_SCOPES)
    other = await _token(url, sessionmaker, OTHER, FEED_SCOPES)
    async with following(url, provider) as feed, following(url, other) as stranger:
        ready = await feed.until(lambda e: e.event == "ready")
        assert ready.data["snapshot"] is True
        await stranger.until(lambda e: e.event == "ready")

        await _change(url, provider, mine, "pause")
        paused = await feed.until(lambda e: e.event.startswith("grant."))
        assert (paused.event, paused.data["grant_id"], paused.data["status"]) == (
            "grant.paused",
            mine,
            "paused",
        )
        await _change(url, provider, mine, "revoke")
        revoked = await feed.until(lambda e: e.event.startswith("grant."))
        assert (revoked.event, revoked.data["status"]) == ("grant.revoked", "revoked")
        assert position(ready.id) < position(paused.id) < position(revoked.id)

        # the stranger hears its own grant's change, after ours, and never of ours
        await _change(url, other, theirs, "revoke")
        own = await stranger.until(lambda e: e.event.startswith("grant."))
        assert own.data["grant_id"] == theirs
        assert position(own.id) > position(revoked.id)
    heard = {e.data.get("grant_id") for e in stranger.seen}
    assert mine not in heard


async def test_a_listener_resumes_after_its_last_event_id(url: str, sessionmaker: Sessions) -> None:
    grant = await _grant(url, sessionmaker, DATASET, ["company_name"])
    provider = await _token(url, sessionmaker, PROVIDER, FEED_SCOPES)
    async with following(url, provider) as feed:
        ready = await feed.until(lambda e: e.event == "ready")
    await _change(url, provider, grant, "pause")  # while nobody listens
    await _change(url, provider, grant, "resume")
    async with following(url, provider, last_event_id=ready.id) as feed:
        first = await feed.until(lambda e: e.event.startswith("grant."))
        second = await feed.until(lambda e: e.event.startswith("grant."))
        caught_up = await feed.until(lambda e: e.event == "ready")
        beat = await feed.until(lambda e: e.event == "heartbeat", limit_s=5)
    assert [(e.data["grant_id"], e.event) for e in (first, second)] == [
        (grant, "grant.paused"),
        (grant, "grant.resumed"),
    ]
    assert caught_up.data["snapshot"] is False
    assert position(ready.id) < position(first.id) < position(second.id)
    assert position(second.id) <= position(caught_up.id) <= position(beat.id)


async def test_a_fresh_listener_starts_from_the_grants_not_in_force(
    url: str, sessionmaker: Sessions
) -> None:
    paused = await _grant(url, sessionmaker, DATASET, ["credit_code"])
    active = await _grant(url, sessionmaker, DATASET, ["credit_code"])
    provider = await _token(url, sessionmaker, PROVIDER, FEED_SCOPES)
    await _change(url, provider, paused, "pause")
    async with following(url, provider, follow="false") as feed:
        events = await feed.rest()
    standing = {e.data["grant_id"]: e.data["status"] for e in events if e.event == "grant.state"}
    assert standing[paused] == "paused"
    assert active not in standing
    assert all(e.id is None for e in events if e.event == "grant.state")
    assert events[-1].event == "ready"

    other = await _token(url, sessionmaker, OTHER, FEED_SCOPES)
    async with following(url, other, follow="false") as feed:
        assert paused not in {e.data.get("grant_id") for e in await feed.rest()}


async def test_a_change_committed_late_is_not_skipped(
    served: tuple[str, FastAPI], sessionmaker: Sessions
) -> None:
    """Positions are allocated at insert and seen at commit: a change whose transaction began
    first but commits last must still reach a listener that already saw a later one."""
    url, app = served
    early = await _grant(url, sessionmaker, DATASET, ["issued_on"])
    late = await _grant(url, sessionmaker, DATASET, ["issued_on"])
    provider = await _token(url, sessionmaker, PROVIDER, FEED_SCOPES)
    async with following(url, provider) as feed:
        await feed.until(lambda e: e.event == "ready")
        async with sessionmaker() as slow:
            # the row a pause writes, alone: the whole pause would also hold an audit chain's
            # head, which the other pause may need
            grant = await slow.get(Grant, early)
            assert grant is not None
            slow.add(
                GrantChange(
                    grant_id=early, provider_id=PROVIDER, grantee_id=grant.grantee_id,
                    dataset_id=DATASET, event="paused", status="paused", ends_at=grant.ends_at,
                    occurred_at=utcnow(),
                )
            )  # fmt: skip
            await slow.flush()  # its row is written, its transaction still open
            await _change(url, provider, late, "pause")  # committed meanwhile
            await app.state.grant_feed.read()  # the broker's feed looks while `slow` is open
            await slow.commit()
        first = await feed.until(lambda e: e.event.startswith("grant."))
        second = await feed.until(lambda e: e.event.startswith("grant."))
    assert [first.data["grant_id"], second.data["grant_id"]] == [early, late]


async def test_a_listener_behind_the_memory_reads_the_table(
    sessionmaker: Sessions, url: str
) -> None:
    """A feed keeping only the newest changes: an older position is served from the table."""
    async with sessionmaker() as session:
        start = await last_position(session)
    feed = GrantFeed(sessionmaker, poll_s=0.1, keep=1)
    await feed._start()
    grants = [await _grant(url, sessionmaker, DATASET, ["company_name"]) for _ in range(3)]
    async with sessionmaker() as session:
        for grant_id in grants:
            await change_grant(
                session, grant_id, actor=Actor(org_id=PROVIDER), action=GrantEventName.paused,
                reason=None, now=utcnow(),
            )  # fmt: skip
        await session.commit()
    await feed.read()
    assert len(grants) > 1  # more than the feed keeps in memory
    heard, reached, reads = [], start, 0
    while reached < feed.position:
        changes, reached = await feed.next_for(PROVIDER, reached, wait_s=0)
        heard.extend(c.grant_id for c in changes)
        reads += 1
    assert heard[-len(grants) :] == grants
    assert reads == 2  # the older ones from the table, the newest from memory


async def test_a_bad_last_event_id_is_refused(url: str, sessionmaker: Sessions) -> None:
    provider = await _token(url, sessionmaker, PROVIDER, FEED_SCOPES)
    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.get(
            "/v1/grants/changes", headers=bearer(provider) | {"Last-Event-ID": "yesterday"}
        )
    assert answer.status_code == 422, answer.text
    assert answer.json()["type"].endswith("/invalid-last-event-id")


async def test_a_provider_reports_uses_of_its_own_grants_only(
    url: str, sessionmaker: Sessions
) -> None:
    mine = await _grant(url, sessionmaker, DATASET, ["registered_capital"])
    theirs = await _grant(url, sessionmaker, OTHER_DATASET, ["mine_name"])
    provider = await _token(url, sessionmaker, PROVIDER, FEED_SCOPES)
    used = utcnow().replace(microsecond=0)
    uses = [
        {"grant_id": mine, "count": 7, "last_used_at": used.isoformat()},
        {"grant_id": mine, "count": 3, "last_used_at": (used - timedelta(hours=1)).isoformat()},
        {"grant_id": theirs, "count": 5, "last_used_at": used.isoformat()},
    ]
    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.post("/v1/grants/uses", headers=bearer(provider), json={"uses": uses})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"counted": [mine], "ignored": [theirs]}
        earlier = [{"grant_id": mine, "count": 1, "last_used_at": "2020-01-01T00:00:00Z"}]
        again = await http.post("/v1/grants/uses", headers=bearer(provider), json={"uses": earlier})
        assert again.status_code == 200, again.text
    async with sessionmaker() as session:
        counted = await session.get(Grant, mine)
        untouched = await session.get(Grant, theirs)
    assert counted is not None
    assert untouched is not None
    # both reports counted; the last use never moves back
    assert (counted.use_count, counted.last_used_at) == (11, used)
    assert (untouched.use_count, untouched.last_used_at) == (0, None)
