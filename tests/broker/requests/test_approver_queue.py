"""A CDO's queue (`GET /v1/requests?role=approver`): newest first, a page at a time, each request
once, whatever the requests of other bodies around it."""

from __future__ import annotations

import httpx

from testing.clients import Headers, file
from testing.workloads import request_body


async def test_the_queue_pages_newest_first_with_each_request_once(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    filer = await as_org("sg-dsb")  # files nothing else on this dataset in the suite
    mine = [
        (await file(client, filer, request_body("gz-gaj-household-migration", ["name"]))).json()
        for _ in range(3)
    ]
    # Another provider's request in between: not in gz-gaj's queue.
    other = await file(client, filer, request_body("gd-gat-population-basic", ["name"]))
    assert other.status_code == 201
    ids = [r["id"] for r in mine]
    approver = await as_org("gz-gaj")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"role": "approver", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/requests", headers=approver, params=params)).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor or set(ids) <= set(seen):
            break
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == len(set(seen))
    assert [i for i in seen if i in ids] == ids[::-1]
    assert other.json()["id"] not in seen
