"""The `cdo-broker` command as an operator runs it: a real process against a real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from testing.processes import cdo_broker

pytestmark = pytest.mark.integration


async def test_client_create_prints_credentials_that_get_a_token(
    migrated: str, seeded: object, client: httpx.AsyncClient, city_department: str
) -> None:
    result = cdo_broker(
        "client", "create", "--org", city_department, "--scope", "requests:read",
        database_url=migrated,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    credentials = json.loads(result.stdout)
    assert set(credentials) == {"client_id", "client_secret"}

    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(credentials["client_id"], credentials["client_secret"]),
    )
    assert response.status_code == 200, response.text


def test_client_create_for_an_unknown_org_fails_clearly(migrated: str, seeded: object) -> None:
    result = cdo_broker(
        "client", "create", "--org", "nowhere", "--scope", "requests:read", database_url=migrated
    )
    assert result.returncode != 0
    assert "nowhere" in result.stderr


def test_seed_pilot_with_clients_twice_keeps_the_same_clients(
    migrated: str, seeded: object, tmp_path: Path
) -> None:
    clients_file = tmp_path / "demo-clients.json"
    first = cdo_broker("seed-pilot", "--clients", str(clients_file), database_url=migrated)
    assert first.returncode == 0, first.stderr
    written = json.loads(clients_file.read_text())
    again = cdo_broker("seed-pilot", "--clients", str(clients_file), database_url=migrated)
    assert again.returncode == 0, again.stderr

    assert json.loads(clients_file.read_text()) == written
    assert json.loads(again.stdout)["created"] == {
        "organisations": 0, "appointments": 0, "datasets": 0, "clients": 0, "people": 0,
    }  # fmt: skip
    some_bureau = next(v for k, v in written.items() if k.endswith("-dsb"))
    assert "directory:admin" in some_bureau["scope"]
    # every body may hold grants, so every demo system may ask for grant tokens
    assert all("grants:use" in client["scope"].split() for client in written.values())


def test_sqlite_quick_run_migrates_and_seeds(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'broker.db'}"
    assert cdo_broker("migrate", database_url=url, cwd=tmp_path).returncode == 0
    seeded = cdo_broker("seed-pilot", database_url=url, cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert json.loads(seeded.stdout)["created"]["organisations"] > 100
    again = cdo_broker("seed-pilot", database_url=url, cwd=tmp_path)
    assert json.loads(again.stdout)["created"]["organisations"] == 0


def test_archive_prints_what_it_moved_and_the_cutoff(migrated: str) -> None:
    # a century back: nothing any test wrote is that old, so nothing moves
    result = cdo_broker("archive", "--after-days", "36500", database_url=migrated)

    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["archived"] == {"events": 0, "deliveries": 0}
    assert datetime.fromisoformat(printed["before"]) < datetime.now(UTC) - timedelta(days=36499)
