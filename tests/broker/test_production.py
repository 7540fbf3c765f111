"""What production refuses to start with: no Redis (revocation and lockout would silently be
off), an http issuer, an RSA key under 2048 bits, a database role that can change audit rows.
And revocation never answers 200 for a revocation it could not keep."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.app import create_app
from broker.oauth.clients import create_client
from broker.oauth.keys import SigningKeyTooWeak, load_keyring
from broker.production import RefusedToStart, refusals
from core.settings import Environment
from testing import REPO_ROOT
from testing.apps import broker_with
from testing.processes import free_port
from testing.settings import Settings

pytestmark = pytest.mark.integration
HTTPS = "https://cdo-broker.example.gov.cn"
Sessions = async_sessionmaker[AsyncSession]


def pem(bits: int) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def production(settings: Settings, **changes: Any) -> Settings:
    """The suite's settings as production would have them: every key given, an https issuer."""
    values: dict[str, Any] = {
        "environment": Environment.production,
        "issuer": HTTPS,
        "signing_key_pem": pem(2048),
        "webhook_secret_key": Fernet.generate_key().decode(),
        "sla_job_enabled": False,
        "outbox_relay_enabled": False,
    }
    return settings.model_copy(update=values | changes)


async def start(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        pass


async def test_production_without_redis_refuses_to_start_and_says_why(settings: Settings) -> None:
    with pytest.raises(RefusedToStart, match="BROKER_ENV=production needs REDIS_URL"):
        await start(production(settings, redis_url=None))
    await start(production(settings))  # with it, the same configuration starts


async def test_production_refuses_a_database_role_that_can_change_audit_rows(
    settings: Settings, owner_database_url: str
) -> None:
    with pytest.raises(RefusedToStart, match="may UPDATE, DELETE or TRUNCATE audit_log"):
        await start(production(settings, database_url=owner_database_url))


@pytest.mark.parametrize(
    ("environment", "issuer", "refused"),
    [
        (Environment.production, "http://127.0.0.1:8000", True),
        (Environment.production, "http://cdo-broker.example.gov.cn", True),
        (Environment.production, HTTPS, False),
        (Environment.development, "http://cdo-broker.internal:8000", True),
        (Environment.development, "ftp://localhost", True),
        (Environment.development, "http://localhost:8000", False),
        (Environment.development, "http://127.0.0.1:8000", False),
        (Environment.development, "http://[::1]:8000", False),
        (Environment.development, HTTPS, False),
    ],
)
def test_the_issuer_is_https_except_on_loopback_in_development(
    environment: Environment, issuer: str, refused: bool
) -> None:
    settings = Settings.model_validate(
        {"BROKER_ENV": environment.value, "OAUTH_ISSUER": issuer, "REDIS_URL": "redis://r"}
    )
    found = refusals(settings)
    assert bool(found) is refused, found
    if refused:
        assert "OAUTH_ISSUER must be an https URL" in found[0]


@pytest.mark.parametrize(
    ("environment", "upstream", "registered", "said"),
    [
        (Environment.production, "http://sso.example.gov.cn", True, "must be an https URL"),
        (Environment.development, "http://sso.example.gov.cn", True, "must be an https URL"),
        (Environment.development, "http://localhost:9000", True, None),
        (Environment.production, "https://sso.example.gov.cn", True, None),
        (Environment.production, "https://sso.example.gov.cn", False, "needs OIDC_UPSTREAM_CLIENT"),
    ],
)
def test_the_unified_sign_on_is_https_and_registered(
    environment: Environment, upstream: str, registered: bool, said: str | None
) -> None:
    settings = Settings.model_validate(
        {"BROKER_ENV": environment.value, "OAUTH_ISSUER": HTTPS, "REDIS_URL": "redis://r",
         "OIDC_UPSTREAM_ISSUER": upstream}
        | ({"OIDC_UPSTREAM_CLIENT_ID": "cdo", "OIDC_UPSTREAM_CLIENT_SECRET": "s"} if registered
           else {})
    )  # fmt: skip
    found = refusals(settings)
    assert [said in f for f in found] == ([True] if said else []), found


async def test_production_refuses_an_http_issuer_at_start(settings: Settings) -> None:
    with pytest.raises(RefusedToStart, match="OAUTH_ISSUER must be an https URL"):
        await start(production(settings, issuer="http://cdo-broker.example.gov.cn"))


def test_production_refuses_an_rsa_key_under_2048_bits_anywhere_in_the_ring(
    tmp_path: Path,
) -> None:
    weak, strong = tmp_path / "weak.pem", tmp_path / "strong.pem"
    weak.write_text(pem(1024))
    strong.write_text(pem(2048))
    for files in (f"{weak}", f"{strong},{weak}"):
        settings = Settings.model_validate(
            {"BROKER_ENV": "production", "OAUTH_SIGNING_KEY_FILES": files}
        )
        with pytest.raises(SigningKeyTooWeak, match="is RSA-1024; at least 2048 bits"):
            load_keyring(settings)
    development = Settings.model_validate({"OAUTH_SIGNING_KEY_FILES": str(weak)})
    assert load_keyring(development).signing_key.raw_value.key_size == 1024  # warned only
    accepted = Settings.model_validate(
        {"BROKER_ENV": "production", "OAUTH_SIGNING_KEY_FILES": f"{strong}"}
    )
    assert load_keyring(accepted).signing_key.raw_value.key_size == 2048


def test_serve_in_production_without_redis_exits_with_the_reason(tmp_path: Path) -> None:
    env = os.environ | {
        "BROKER_ENV": "production",
        "OAUTH_ISSUER": HTTPS,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/broker.db",
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "cdo_cli", "serve", "--port", str(free_port())],
        env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "BROKER_ENV=production needs REDIS_URL" in done.stderr


async def test_revocation_without_redis_is_503_not_a_200_that_keeps_nothing(
    app: FastAPI, settings: Settings, sessionmaker: Sessions, city_department: str
) -> None:
    async with sessionmaker() as session:
        client, secret = await create_client(
            session, organisation_id=city_department, scope="requests:read"
        )
        await session.commit()
    auth = (client.id, secret)
    async with broker_with(app, settings, redis_url=None) as http:
        issued = await http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=auth
        )
        token = issued.json()["access_token"]
        refused = await http.post(
            "/oauth/revoke", data={"token": token}, auth=auth, headers={"Accept-Language": "en"}
        )
        invalid = await http.post("/oauth/revoke", data={"token": "x"}, auth=auth)
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "needs Redis" in refused.json()["detail"]
    assert invalid.status_code == 200  # RFC 7009: an invalid token needs no revoking


def test_serve_believes_forwarded_addresses_only_from_the_configured_proxies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvicorn

    import cdo_cli

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.1.2.0/24")
    with pytest.raises(SystemExit):
        cdo_cli.main(["serve", "--port", "8123"])
    assert seen["proxy_headers"] is True
    assert seen["forwarded_allow_ips"] == "10.1.2.0/24"
