"""Key rotation by configuration: the new key signs, the old stays in the JWKS until the tokens
it signed expire, so not one valid token is rejected; after that the old key can go."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.app import create_app
from broker.oauth.clients import create_client
from core.settings import Environment
from testing.apps import BASE_URL
from testing.clients import bearer
from testing.settings import Settings

pytestmark = pytest.mark.integration


def _pem(path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@asynccontextmanager
async def broker(settings: Settings, *keys: Path) -> AsyncIterator[httpx.AsyncClient]:
    configured = settings.model_copy(
        update={
            # Keys from configuration only, as in production (with keys given, development
            # generates none; production itself would refuse the tests' http issuer).
            "signing_key_files": ",".join(str(k) for k in keys),
            "webhook_secret_key": "Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMtbG9uZy1rZXk=",
            "sla_job_enabled": False,
            "outbox_relay_enabled": False,
        }
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            yield http


async def test_rotation_rejects_no_valid_token(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    seeded: object,
) -> None:
    old, new = _pem(tmp_path / "old.pem"), _pem(tmp_path / "new.pem")
    async with sessionmaker() as session:
        client, secret = await create_client(
            session, organisation_id="gz-rsj", scope="requests:read"
        )
        await session.commit()

    async def token(http: httpx.AsyncClient) -> str:
        answer = await http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client.id, secret)
        )
        return str(answer.json()["access_token"])

    async with broker(settings, old) as before:
        issued_before = [await token(before) for _ in range(3)]
        old_kid = pyjwt.get_unverified_header(issued_before[0])["kid"]

    async with broker(settings, new, old) as during:  # the new key first: it signs
        issued_during = await token(during)
        assert pyjwt.get_unverified_header(issued_during)["kid"] != old_kid
        jwks = (await during.get("/.well-known/jwks.json")).json()
        assert {k["kid"] for k in jwks["keys"]} >= {old_kid}
        assert len(jwks["keys"]) == 2
        for valid in [*issued_before, issued_during]:
            assert (await during.get("/v1/datasets", headers=bearer(valid))).status_code == 200

    async with broker(settings, new) as after:  # once the old tokens have expired
        assert (await after.get("/v1/datasets", headers=bearer(issued_during))).status_code == 200
        assert (
            await after.get("/v1/datasets", headers=bearer(issued_before[0]))
        ).status_code == 401


def test_production_refuses_to_start_without_configured_keys(settings: Settings) -> None:
    from broker.oauth.keys import SigningKeyMissing, load_keyring

    production = settings.model_copy(
        update={
            "environment": Environment.production,
            "signing_key_files": None,
            "signing_key_pem": None,
        }
    )
    with pytest.raises(SigningKeyMissing):
        load_keyring(production)
