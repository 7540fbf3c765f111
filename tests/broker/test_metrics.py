"""`/metrics` exposes the named series, moving as a scripted run files, decides and asks."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.broker.requests.conftest import ALL_SCOPES, decide, file, request_body
from tests.conftest import TokenFactory, bearer

pytestmark = pytest.mark.integration


def _value(text: str, series: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(series + "{") and not line.startswith(series + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_metrics_move_with_a_scripted_run(
    client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    before = (await client.get("/metrics")).text
    requester = bearer(await token_for("gz-rsj", ALL_SCOPES))
    provider = bearer(await token_for("gz-gaj", ALL_SCOPES))
    request = (
        await file(client, requester, request_body("gz-gaj-household-migration", ["id_number"]))
    ).json()
    await decide(client, provider, request["id"], decision="approve")

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    for series in [
        "cdo_requests_total",
        "cdo_decisions_total",
        "cdo_decision_duration_seconds_bucket",
        "cdo_tokens_total",
    ]:
        assert re.search(rf"^{series}", after, re.M), series
    assert (
        _value(after, "cdo_requests_total", kind="share", status="pending")
        == _value(before, "cdo_requests_total", kind="share", status="pending") + 1
    )
    assert _value(after, "cdo_decisions_total", decision="approve", level="city") >= 1
    assert (
        _value(after, "cdo_tokens_total", outcome="issued")
        >= _value(before, "cdo_tokens_total", outcome="issued") + 2
    )
