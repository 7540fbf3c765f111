"""Demands (需求) through the API: data the catalog lacks, coordinated by the requester's
government CDO, then decided by the presumed provider; an approved demand drafts a catalog
entry owned by the provider, and the grant follows once the provider publishes it."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from testing.audit import audit_mark, audited_since
from testing.clients import Headers, TokenFactory, bearer, decide, file, route_of
from testing.workloads import demand_body

pytestmark = pytest.mark.integration


async def test_a_demand_is_coordinated_decided_drafted_published_and_granted(
    client: httpx.AsyncClient,
    as_org: Headers,
    token_for: TokenFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    requester = await as_org("gz-gaj")
    filed = await file(client, requester, demand_body())
    assert filed.status_code == 201, filed.text
    demand = filed.json()
    assert (demand["kind"], demand["dataset_id"], demand["provider_id"]) == (
        "demand",
        None,
        "gz-rsj",
    )
    assert demand["description"] == "灵活就业人员社保缴费明细（按月）"
    assert route_of(demand) == [["gz-gov"], ["gz-rsj"]]
    listed = await client.get("/v1/requests", headers=requester, params={"kind": "demand"})
    assert listed.status_code == 200, listed.text
    assert demand["id"] in {r["id"] for r in listed.json()["items"]}
    assert {r["kind"] for r in listed.json()["items"]} == {"demand"}

    # neither the requester nor the presumed provider decides before the coordinator has
    provider = await as_org("gz-rsj")
    mark = await audit_mark(sessionmaker)
    by_requester = await decide(client, requester, demand["id"], decision="approve")
    assert by_requester.status_code == 403, by_requester.text
    assert by_requester.json()["type"].endswith("/requester-cannot-decide")
    too_early = await decide(client, provider, demand["id"], decision="approve")
    assert too_early.status_code == 403, too_early.text
    assert too_early.json()["type"].endswith("/not-the-approver")
    unchanged = (await client.get(f"/v1/requests/{demand['id']}", headers=requester)).json()
    assert (unchanged["status"], unchanged["current_step"]) == ("pending", 0)
    assert [s["decisions"] for s in unchanged["route"]] == [[], []]
    assert await audited_since(sessionmaker, mark, actor="gz-gaj") == []
    assert await audited_since(sessionmaker, mark, actor="gz-rsj") == []

    await decide(client, await as_org("gz-gov"), demand["id"], decision="approve")
    approved = await decide(client, provider, demand["id"], decision="approve")
    assert approved.json()["status"] == "approved", approved.text
    draft_id = approved.json()["dataset_id"]
    assert draft_id.startswith("gz-rsj-demand-")
    assert approved.json()["grant_id"] is None  # nothing to grant until the entry is published

    draft = (await client.get(f"/v1/datasets/{draft_id}", headers=requester)).json()
    assert (draft["status"], draft["owner_id"], draft["fields"]) == ("draft", "gz-rsj", [])
    early = await file(
        client,
        requester,
        demand_body()
        | {"kind": "share", "dataset_id": draft_id, "fields": ["x"]}
        | {"description": None, "presumed_provider_id": None},
    )
    assert early.status_code == 422
    assert early.json()["field"] == "dataset_id"

    admin = bearer(await token_for("gz-dsb", "catalog:admin"))
    undescribed = await client.post(f"/v1/datasets/{draft_id}/publish", headers=admin)
    assert undescribed.status_code == 422
    assert undescribed.json()["type"].endswith("/draft-incomplete")
    fields = [
        {"name": "person_number", "label": "人员编号", "personal": True},
        {"name": "paid_month", "label": "缴费年月"},
    ]
    described = await client.patch(
        f"/v1/datasets/{draft_id}",
        headers=admin,
        json={"fields": fields, "update_cycle": "monthly"},
    )
    assert described.status_code == 200, described.text
    # only a catalog admin whose jurisdiction holds the owner publishes: not another city's
    # bureau, nor the requester (its grant waits on the publication)
    outside = bearer(await token_for("sz-dsb", "catalog:admin"))
    by_requester = bearer(await token_for("gz-gaj", "catalog:admin"))
    mark = await audit_mark(sessionmaker)
    for refused in (outside, by_requester):
        attempt = await client.post(f"/v1/datasets/{draft_id}/publish", headers=refused)
        assert attempt.status_code == 403, attempt.text
        assert attempt.json()["type"].endswith("/outside-jurisdiction")
    still = (await client.get(f"/v1/datasets/{draft_id}", headers=requester)).json()
    assert still["status"] == "draft"
    waiting = (await client.get(f"/v1/requests/{demand['id']}", headers=requester)).json()
    assert waiting["grant_id"] is None
    assert await audited_since(sessionmaker, mark, actor="sz-dsb") == []
    assert await audited_since(sessionmaker, mark, actor="gz-gaj") == []

    published = await client.post(f"/v1/datasets/{draft_id}/publish", headers=admin)
    assert published.json()["status"] == "published", published.text
    again = await client.post(f"/v1/datasets/{draft_id}/publish", headers=admin)
    assert again.status_code == 200

    granted = (await client.get(f"/v1/requests/{demand['id']}", headers=requester)).json()
    assert granted["grant_id"] is not None
    grant = (await client.get(f"/v1/grants/{granted['grant_id']}", headers=requester)).json()
    assert (grant["dataset_id"], grant["fields"]) == (draft_id, ["person_number", "paid_month"])


async def test_a_demand_names_another_department_and_nothing_of_a_share(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    requester = await as_org("gz-gaj")
    before = await _demands_of(client, requester)
    government = await file(client, requester, demand_body("gz-gov"))
    assert government.status_code == 422
    assert government.json()["field"] == "presumed_provider_id"
    itself = await file(client, requester, demand_body("gz-gaj"))
    assert itself.status_code == 422
    no_description = await file(client, requester, demand_body(description=None))
    assert no_description.status_code == 422
    assert no_description.json()["errors"][0]["field"] == "description"
    with_dataset = await file(client, requester, demand_body(dataset_id="gz-rsj-talent-green-card"))
    assert with_dataset.status_code == 422
    assert with_dataset.json()["errors"][0]["field"] == "dataset_id"
    assert await _demands_of(client, requester) == before  # nothing refused was filed


async def _demands_of(client: httpx.AsyncClient, headers: dict[str, str]) -> set[str]:
    """Every demand the caller filed, page after page."""
    ids: set[str] = set()
    params = {"kind": "demand", "role": "requester"}
    while True:
        listed = await client.get("/v1/requests", headers=headers, params=params)
        assert listed.status_code == 200, listed.text
        ids |= {r["id"] for r in listed.json()["items"]}
        if listed.json()["next_cursor"] is None:
            return ids
        params["cursor"] = listed.json()["next_cursor"]
