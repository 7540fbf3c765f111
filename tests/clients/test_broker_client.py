"""`BrokerClient` against the broker over real HTTP: a department files, the provider's CDO
decides with its own client, the grant is issued and a grant token obtained; idempotent filing,
paging, and the broker's problems as typed exceptions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cdo_broker_client import BrokerClient, Conflict, Invalid, NotFound, OAuthError
from cdo_broker_client.grants import unverified_claims
from cdo_broker_client.models import PeriodIn, RequestIn
from testing.client_package import CONDITIONAL, CONDITIONAL_APPROVER, LICENCES, REQUESTER_SCOPES
from testing.clients import Credentials

pytestmark = pytest.mark.integration
REQUESTER = "mm-nyj"  # 茂名市农业农村局: files nothing in other tests


def _body(dataset: str, fields: list[str], purpose: str = "人才住房资格审核") -> RequestIn:
    start = datetime.now(UTC).replace(microsecond=0)
    return RequestIn(
        kind="share",
        dataset_id=dataset,
        fields=fields,
        purpose=purpose,
        period=PeriodIn(start=start, end=start + timedelta(days=30)),
    )


async def test_file_decide_grant_and_grant_token(broker_url: str, credentials: Credentials) -> None:
    requester = BrokerClient(broker_url, *await credentials(REQUESTER, REQUESTER_SCOPES))
    cdo = BrokerClient(
        broker_url, *await credentials(CONDITIONAL_APPROVER, "approvals:decide requests:read")
    )
    async with requester, cdo:
        filed = await requester.file_request(_body(*CONDITIONAL))
        assert filed.status == "pending"
        with pytest.raises(OAuthError) as refused:  # no grant yet: no grant token
            await requester.grant_token(CONDITIONAL[0])
        assert refused.value.error == "invalid_scope"

        to_decide = [r.id async for r in cdo.list_requests(role="approver", status="pending")]
        assert filed.id in to_decide
        decided = await cdo.decide(
            filed.id, "approve", comment="核验人才绿卡所需", fields=["card_number"]
        )
        assert decided.status == "approved"
        assert decided.grant_id is not None

        final = await requester.wait_for_decision(filed.id, limit_s=10, poll_s=0.1)
        assert final.status == "approved"
        grant = await requester.get_grant(decided.grant_id)
        assert (grant.status, grant.fields) == ("active", ["card_number"])

        token = await requester.grant_token(CONDITIONAL[0])
        assert (token.grant.grant_id, token.grant.fields) == (grant.id, ("card_number",))
        assert token.expires_at <= grant.ends_at.timestamp()
        assert unverified_claims(token.access_token)["scope"] == f"dataset:{CONDITIONAL[0]}:read"
        assert await requester.grant_token(CONDITIONAL[0]) == token  # cached


async def test_filing_with_a_key_is_idempotent_and_a_reused_key_conflicts(
    broker_url: str, credentials: Credentials
) -> None:
    async with BrokerClient(broker_url, *await credentials(REQUESTER, REQUESTER_SCOPES)) as api:
        key = str(uuid.uuid4())
        body = _body(LICENCES, ["licence_number"])
        first = await api.file_request(body, idempotency_key=key)
        again = await api.file_request(body, idempotency_key=key)
        assert again.id == first.id
        with pytest.raises(Conflict) as conflict:
            await api.file_request(_body(LICENCES, ["company_name"]), idempotency_key=key)
        assert conflict.value.status == 409
        # without a key, each call is a new filing
        other = await api.file_request(_body(LICENCES, ["licence_number"]))
        assert other.id != first.id


async def test_pages_are_followed_to_the_end(broker_url: str, credentials: Credentials) -> None:
    async with BrokerClient(broker_url, *await credentials(REQUESTER, REQUESTER_SCOPES)) as api:
        filed = {(await api.file_request(_body(LICENCES, ["issued_on"]))).id for _ in range(3)}
        listed = [r.id async for r in api.list_requests(dataset_id=LICENCES, page_size=2)]
        assert filed <= set(listed)
        assert len(listed) == len(set(listed))
        grants = [g async for g in api.list_grants(role="grantee", page_size=2)]
        assert {g.request_id for g in grants} >= filed


async def test_problems_are_typed_exceptions(broker_url: str, credentials: Credentials) -> None:
    async with BrokerClient(broker_url, *await credentials(REQUESTER, REQUESTER_SCOPES)) as api:
        with pytest.raises(NotFound) as missing:
            await api.get_request("req_doesnotexist")
        assert missing.value.slug == "not-found"
        assert missing.value.problem.detail
        with pytest.raises(Invalid) as invalid:
            await api.file_request(_body(LICENCES, ["no_such_field"]))
        assert invalid.value.problem.extensions.get("field") == "fields"


async def test_a_revoked_token_is_replaced_once(broker_url: str, credentials: Credentials) -> None:
    async with BrokerClient(broker_url, *await credentials(REQUESTER, REQUESTER_SCOPES)) as api:
        token = await api.tokens.get()
        revoked = await api.http.post(
            f"{broker_url}/oauth/revoke",
            data={"token": token.access_token},
            auth=(api.client_id, api.tokens.client_secret),
        )
        assert revoked.status_code == 200, revoked.text
        # the cached token is refused (401): the client gets a new one and the call succeeds
        assert [r async for r in api.list_requests(page_size=1)]
        assert (await api.tokens.get()).access_token != token.access_token
