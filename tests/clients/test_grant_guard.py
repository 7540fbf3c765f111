"""The provider example (clients/python/examples/provider_api.py) behind GrantGuard, with the
broker over real HTTP: a granted request gets only the granted fields; a grant revoked through
the API is refused within 2 s; an ungranted dataset, an expired token and a token signed by
another key are refused; a return is cut to its jurisdiction; key rotation is followed."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

from broker.oauth.keys import load_keyring
from broker.oauth.server import BrokerAuthorizationServer
from cdo_broker_client import BrokerClient, GrantGuard, GrantToken
from cdo_broker_client.grants import unverified_claims
from cdo_broker_client.models import PeriodIn, RequestIn, RequestOut
from testing.apps import served_app
from testing.client_package import (
    AGENCIES,
    LICENCES,
    PROVIDER,
    PROVIDER_SCOPES,
    REQUESTER_SCOPES,
    example,
)
from testing.clients import Credentials
from testing.settings import Settings
from testing.waiting import wait_until

pytestmark = pytest.mark.integration
REVOCATION_DEADLINE_S = 2.0  # the promise to providers (issue 18): refused within 2 s


def _share(dataset: str, fields: list[str], **extra: Any) -> RequestIn:
    start = time.time()
    period = PeriodIn.model_validate({"start": start, "end": start + 30 * 86400})
    return RequestIn.model_validate(
        {"kind": "share", "dataset_id": dataset, "fields": fields, "purpose": "劳务派遣资质核验",
         "period": period} | extra
    )  # fmt: skip


@pytest.fixture
async def guard(
    broker_url: str, credentials: Credentials
) -> AsyncIterator[tuple[GrantGuard, httpx.AsyncClient]]:
    provider_api = example("provider_api")
    guarded: GrantGuard = provider_api.create_app(
        broker_url, *await credentials(PROVIDER, PROVIDER_SCOPES), report_uses_every_s=3600
    )
    async with guarded.running():
        await wait_until(guarded.follower.ready.is_set, limit_s=10, what="the guard's feed")
        transport = httpx.ASGITransport(app=guarded)
        async with httpx.AsyncClient(transport=transport, base_url="http://provider") as http:
            yield guarded, http


async def _granted(
    broker_url: str, credentials: Credentials, org: str, body: RequestIn
) -> tuple[BrokerClient, RequestOut, GrantToken]:
    requester = BrokerClient(broker_url, *await credentials(org, REQUESTER_SCOPES))
    filed = await requester.file_request(body)
    assert filed.status == "approved", filed
    return requester, filed, await requester.grant_token(body.dataset_id or "")


async def test_a_grant_serves_its_fields_only_until_it_is_revoked(
    guard: tuple[GrantGuard, httpx.AsyncClient], broker_url: str, credentials: Credentials
) -> None:
    _, http = guard
    body = _share(LICENCES, ["licence_number", "company_name"])
    requester, filed, token = await _granted(broker_url, credentials, "jm-jtj", body)
    async with requester:
        answer = await http.get("/licences", headers=token.authorization)
        assert answer.status_code == 200, answer.text
        records = answer.json()["items"]
        assert records
        assert all(set(r) == {"licence_number", "company_name"} for r in records)
        assert "next_cursor" in answer.json()  # the envelope is the API's own
        one = await http.get(
            f"/licences/{records[0]['licence_number']}", headers=token.authorization
        )
        assert set(one.json()) == {"licence_number", "company_name"}

        provider = BrokerClient(broker_url, *await credentials(PROVIDER, PROVIDER_SCOPES))
        async with provider:
            await provider.revoke_grant(str(filed.grant_id), "超出申请用途使用")

        async def refused() -> bool:
            answer = await http.get("/licences", headers=token.authorization)
            return answer.status_code == 403 and answer.json()["type"].endswith("/grant-revoked")

        await wait_until(
            refused, limit_s=REVOCATION_DEADLINE_S, poll_s=0.02, what="the revoked grant refused"
        )


async def test_pausing_refuses_and_resuming_serves_again(
    guard: tuple[GrantGuard, httpx.AsyncClient], broker_url: str, credentials: Credentials
) -> None:
    _, http = guard
    body = _share(LICENCES, ["issued_on"])
    requester, filed, token = await _granted(broker_url, credentials, "zq-fgj", body)
    provider = BrokerClient(broker_url, *await credentials(PROVIDER, PROVIDER_SCOPES))
    async with requester, provider:

        async def status() -> int:
            return (await http.get("/licences", headers=token.authorization)).status_code

        await provider.pause_grant(str(filed.grant_id))
        await wait_until(lambda: _is(status, 403), limit_s=REVOCATION_DEADLINE_S, what="paused")
        await provider.resume_grant(str(filed.grant_id))
        await wait_until(lambda: _is(status, 200), limit_s=REVOCATION_DEADLINE_S, what="resumed")


async def _is(status: Any, wanted: int) -> bool:
    return bool(await status() == wanted)


async def test_refusals_of_bad_tokens(
    guard: tuple[GrantGuard, httpx.AsyncClient],
    broker_url: str,
    credentials: Credentials,
    settings: Settings,
) -> None:
    _, http = guard
    requester, _, token = await _granted(
        broker_url, credentials, "sz-ybj", _share(LICENCES, ["credit_code"])
    )
    async with requester:
        # another dataset than the token's
        other = await http.get("/agencies", headers=token.authorization)
        assert (other.status_code, other.json()["type"].rsplit("/", 1)[1]) == (403, "not-granted")
        # the same claims, expired, signed by the broker's own key
        claims = unverified_claims(token.access_token)
        signing = load_keyring(settings).signing_key
        stale = _signed(claims | {"exp": int(time.time()) - 60}, signing)
        expired = await http.get("/licences", headers={"Authorization": f"Bearer {stale}"})
        assert expired.status_code == 401, expired.text
        # the same claims, valid, signed by a key the broker does not publish (also under its kid)
        stranger = RSAKey.generate_key(2048, parameters={"kid": "not-the-brokers"})
        for key, kid in ((stranger, "not-the-brokers"), (stranger, signing.kid)):
            forged = _signed(claims, key, kid=kid)
            answer = await http.get("/licences", headers={"Authorization": f"Bearer {forged}"})
            assert answer.status_code == 401, answer.text
            assert answer.json()["type"].endswith("/invalid-token")
        # no token at all, and a path that serves no dataset
        assert (await http.get("/licences")).status_code == 401
        assert (await http.get("/elsewhere", headers=token.authorization)).status_code == 404
        assert (await http.get("/healthz")).status_code == 200  # open, for probes
        # the control: the real token still gets in
        assert (await http.get("/licences", headers=token.authorization)).status_code == 200


def _signed(claims: dict[str, Any], key: RSAKey, kid: str | None = None) -> str:
    header = {"alg": "RS256", "typ": "at+jwt", "kid": kid or key.kid}
    return jwt.encode(header, claims | {"jti": uuid.uuid4().hex}, key)


async def test_a_return_is_cut_to_its_jurisdiction(
    guard: tuple[GrantGuard, httpx.AsyncClient], broker_url: str, credentials: Credentials
) -> None:
    _, http = guard
    requester = BrokerClient(broker_url, *await credentials("sg-zrzyj", REQUESTER_SCOPES))
    body = _share(AGENCIES, ["agency_name", "division_code"], kind="return", jurisdiction="440200")
    async with requester:
        filed = await requester.file_request(body)
        await _approve_every_step(broker_url, credentials, filed)
        token = await requester.grant_token(AGENCIES)
    assert token.grant.jurisdiction == "440200"
    answer = await http.get("/agencies", headers=token.authorization)
    assert answer.status_code == 200, answer.text
    assert answer.json() == [{"agency_name": "韶关浈江人力资源服务站", "division_code": "440204"}]


async def _approve_every_step(
    broker_url: str, credentials: Credentials, request: RequestOut
) -> None:
    while request.status == "pending":
        step = request.route[request.current_step or 0]
        approver = next(a.organisation_id for a in step.approvers if a.current)
        async with BrokerClient(
            broker_url, *await credentials(approver, "approvals:decide requests:read")
        ) as cdo:
            request = await cdo.decide(request.id, "approve")
    assert request.status == "approved", request


async def test_uses_are_reported_in_batches(
    guard: tuple[GrantGuard, httpx.AsyncClient], broker_url: str, credentials: Credentials
) -> None:
    guarded, http = guard
    body = _share(LICENCES, ["legal_representative"])
    requester, filed, token = await _granted(broker_url, credentials, "zs-jtj", body)
    async with requester:
        for _ in range(5):
            assert (await http.get("/licences", headers=token.authorization)).status_code == 200
        await guarded.uses.flush()
        grant = await requester.get_grant(str(filed.grant_id))
    assert grant.use_count == 5
    assert grant.last_used_at is not None


async def test_the_guard_follows_a_key_rotation(
    settings: Settings, credentials: Credentials, seeded: object, tmp_path: Path
) -> None:
    """The broker starts signing with a new key it publishes: the guard, meeting a kid it has
    not seen, fetches the JWKS again (once) and accepts both the new and the old tokens."""
    old_pem, new_pem = tmp_path / "old.pem", tmp_path / "new.pem"
    for path in (old_pem, new_pem):
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    async with served_app(settings, signing_key_files=str(old_pem)) as (url, app):
        provider_api = example("provider_api")
        guarded: GrantGuard = provider_api.create_app(
            url, *await credentials(PROVIDER, PROVIDER_SCOPES), jwks_min_refresh_s=0.2
        )
        async with guarded.running():
            await wait_until(guarded.follower.ready.is_set, limit_s=10, what="the guard's feed")
            transport = httpx.ASGITransport(app=guarded)
            async with httpx.AsyncClient(transport=transport, base_url="http://provider") as http:
                requester, _, old_token = await _granted(
                    url, credentials, "zh-zjj", _share(LICENCES, ["licence_number"])
                )
                assert (await http.get("/licences", headers=old_token.authorization)).is_success
                fetches = guarded.checker.keys.fetches if guarded.checker else 0

                rotated = settings.model_copy(
                    update={"signing_key_files": f"{new_pem},{old_pem}", "issuer": url}
                )
                app.state.keyring = keyring = load_keyring(rotated)
                app.state.authorization_server = BrokerAuthorizationServer(
                    keyring, url, settings.access_token_ttl_seconds
                )
                requester.tokens.forget(await requester.tokens.get(f"dataset:{LICENCES}:read"))
                async with requester:
                    new_token = await requester.grant_token(LICENCES)
                assert unverified_header_kid(new_token.access_token) == keyring.signing_key.kid

                async def accepted() -> bool:
                    answer = await http.get("/licences", headers=new_token.authorization)
                    return answer.is_success

                await wait_until(accepted, limit_s=5, what="the new key accepted")
                assert (await http.get("/licences", headers=old_token.authorization)).is_success
                assert guarded.checker is not None
                assert guarded.checker.keys.fetches == fetches + 1


def unverified_header_kid(token: str) -> str:
    encoded = token.split(".", 1)[0]
    return str(json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))["kid"])
