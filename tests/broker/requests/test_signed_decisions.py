"""Each decision carries a JWS by the broker's key over its content: anyone with the JWKS can
check who approved what; a grant names the decisions that produced it."""

from __future__ import annotations

import json

import httpx
import jwt as pyjwt
import pytest

from testing.clients import Headers, decide, file
from testing.workloads import request_body

pytestmark = pytest.mark.integration


async def test_decisions_are_signed_and_the_grant_names_them(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    body = request_body("gd-rst-social-insurance-enrolment", ["id_number"])
    request = (await file(client, await as_org("gz-gaj"), body)).json()
    await decide(client, await as_org("gz-gov"), request["id"], decision="approve")
    approved = (
        await decide(client, await as_org("gd-rst"), request["id"], decision="approve")
    ).json()

    jwks = pyjwt.PyJWKSet.from_dict((await client.get("/.well-known/jwks.json")).json())
    decisions = [d for step in approved["route"] for d in step["decisions"]]
    for decision in decisions:
        token = decision["signature"]
        header = pyjwt.get_unverified_header(token)
        assert header["typ"] == "decision+jws"
        content = json.loads(
            pyjwt.api_jws.decode(token, key=jwks[header["kid"]].key, algorithms=["RS256"])
        )
        assert content["decision_id"] == decision["id"]
        assert content["request_id"] == request["id"]
        assert content["organisation_id"] == decision["organisation_id"]
        assert content["decision"] == "approve"

        # A changed record no longer verifies.
        head, _payload, signature = token.split(".")
        forged = pyjwt.utils.base64url_encode(
            json.dumps(content | {"decision": "reject"}).encode()
        ).decode()
        with pytest.raises(pyjwt.InvalidSignatureError):
            pyjwt.api_jws.decode(
                f"{head}.{forged}.{signature}", key=jwks[header["kid"]].key, algorithms=["RS256"]
            )

    grant = (
        await client.get(f"/v1/grants/{approved['grant_id']}", headers=await as_org("gz-gaj"))
    ).json()
    assert grant["decision_ids"] == [d["id"] for d in decisions]
