"""Each DOMAIN routing rule, end to end through the API on the seeded pilot directory."""

from __future__ import annotations

import httpx
import pytest

from testing.clients import Headers, decide, file, route_of
from testing.workloads import request_body

pytestmark = pytest.mark.integration


async def test_unconditional_is_approved_at_once_with_a_grant(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    gz_police = await as_org("gz-gaj")
    body = request_body("gd-rst-labour-dispatch-licences", ["licence_number", "company_name"])

    response = await file(client, gz_police, body)

    assert response.status_code == 201, response.text
    request = response.json()
    assert request["status"] == "approved"
    assert request["route"] == []
    assert len(request["trace_id"]) == 32
    grant = await client.get(f"/v1/grants/{request['grant_id']}", headers=gz_police)
    assert grant.json()["scope"] == "dataset:gd-rst-labour-dispatch-licences:read"
    assert grant.json()["fields"] == ["licence_number", "company_name"]
    assert grant.json()["status"] == "active"


async def test_conditional_same_level_goes_to_the_provider_department(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    body = request_body("gz-gaj-household-migration", ["id_number", "migration_type"])
    request = (await file(client, await as_org("gz-rsj"), body)).json()

    assert request["status"] == "pending"
    assert route_of(request) == [["gz-gaj"]]
    assert request["route"][0]["due_at"] is not None

    approved = await decide(client, await as_org("gz-gaj"), request["id"], decision="approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["grant_id"]


async def test_cross_level_needs_the_requesting_government_first(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    body = request_body("gd-rst-social-insurance-enrolment", ["id_number", "insurance_type"])
    request = (await file(client, await as_org("gz-gaj"), body)).json()
    assert route_of(request) == [["gz-gov"], ["gd-rst"]]

    too_early = await decide(client, await as_org("gd-rst"), request["id"], decision="approve")
    assert too_early.status_code == 403
    endorsed = await decide(client, await as_org("gz-gov"), request["id"], decision="approve")
    assert endorsed.json()["current_step"] == 1
    approved = await decide(client, await as_org("gd-rst"), request["id"], decision="approve")
    assert approved.json()["status"] == "approved"


async def test_a_return_is_endorsed_then_decided_and_stays_in_its_jurisdiction(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    shenzhen_police = await as_org("sz-gaj")
    body = request_body(
        "gd-rst-social-insurance-enrolment", ["id_number"], kind="return", jurisdiction="440300"
    )
    request = (await file(client, shenzhen_police, body)).json()
    assert route_of(request) == [["sz-gov"], ["gd-rst"]]
    assert request["jurisdiction"] == "440300"

    outside = await file(client, shenzhen_police, body | {"jurisdiction": "440100"})
    assert outside.status_code == 422
    assert outside.json()["field"] == "jurisdiction"
    same_level = await file(
        client,
        shenzhen_police,
        body | {"dataset_id": "gz-gaj-household-migration", "fields": ["id_number"]},
    )
    assert same_level.status_code == 422
    assert same_level.json()["field"] == "kind"


async def test_not_shareable_is_refused_without_legal_basis_and_two_steps_with_it(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    gz_police = await as_org("gz-gaj")
    body = request_body("gd-gat-fugitives", ["person_number", "name"])

    refused = await file(client, gz_police, body)
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/not-shareable")
    assert refused.json()["field"] == "legal_basis"

    with_basis = await file(
        client, gz_police, body | {"legal_basis": "《中华人民共和国刑事诉讼法》第五十四条"}
    )
    assert with_basis.status_code == 201
    assert route_of(with_basis.json()) == [["gd-gat"], ["gd-gov"]]


async def test_a_provider_without_a_cdo_is_decided_by_its_data_bureau(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    body = request_body("gd-wsjkw-birth-certificates", ["certificate_number"])
    request = (await file(client, await as_org("gz-gaj"), body)).json()

    assert route_of(request) == [["gz-gov"], ["gd-dsb"]]
    assert request["route"][1]["approvers"][0]["acting_for"] == "gd-wsjkw"


async def test_bodies_not_involved_get_404(client: httpx.AsyncClient, as_org: Headers) -> None:
    body = request_body("gz-gaj-household-migration", ["id_number"])
    request = (await file(client, await as_org("gz-rsj"), body)).json()

    for outsider in ["sz-gaj", "gd-rst"]:
        headers = await as_org(outsider)
        assert (
            await client.get(f"/v1/requests/{request['id']}", headers=headers)
        ).status_code == 404
        refused = await decide(client, headers, request["id"], decision="approve")
        assert refused.status_code == 404
    assert (
        await client.get(f"/v1/requests/{request['id']}", headers=await as_org("gz-gaj"))
    ).status_code == 200
