"""The evaluation as the seed runs it, through the API: a bureau scores the CDOs of its
jurisdiction with a comment, the scorecard weighs those scores with the computed indicators,
every report is bounded by the reader's jurisdiction, and the CSV a bureau forwards upward has
Chinese headers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from testing.clients import ALL_SCOPES, TokenFactory, bearer

pytestmark = pytest.mark.integration
YEAR = {"period_start": "2026-01-01", "period_end": "2027-01-01"}


def _window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {"from": "2026-01-01T00:00:00+08:00", "to": (now + timedelta(days=1)).isoformat()}


def _score(org: str, indicator: str = "daily_management", score: int = 86) -> dict[str, Any]:
    return {"organisation_id": org, "indicator": indicator, "score": score,
            "comment": "日常管理制度健全，台账规范", **YEAR}  # fmt: skip


async def test_a_bureau_scores_its_jurisdiction_and_the_scorecard_weighs_it(
    client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    city = bearer(await token_for("gz-dsb", "evaluation:score reports:read"))
    entered = await client.post("/v1/evaluation/scores", headers=city, json=_score("gz-gaj"))
    assert entered.status_code == 201, entered.text
    assert entered.json()["entered_by_org_id"] == "gz-dsb"
    later = await client.post(
        "/v1/evaluation/scores", headers=city, json=_score("gz-gaj", score=90)
    )
    assert later.status_code == 201

    outside = await client.post("/v1/evaluation/scores", headers=city, json=_score("gd-gat"))
    assert outside.status_code == 403
    assert outside.json()["type"].endswith("/outside-jurisdiction")
    computed = await client.post(
        "/v1/evaluation/scores", headers=city, json=_score("gz-gaj", "on_time_rate")
    )
    assert computed.status_code == 422
    assert computed.json()["field"] == "indicator"
    no_comment = await client.post(
        "/v1/evaluation/scores", headers=city, json=_score("gz-gaj") | {"comment": ""}
    )
    assert no_comment.status_code == 422
    department = bearer(await token_for("gz-gaj", "evaluation:score"))
    not_a_bureau = await client.post(
        "/v1/evaluation/scores", headers=department, json=_score("gz-gaj")
    )
    assert not_a_bureau.status_code == 403
    assert not_a_bureau.json()["type"].endswith("/only-a-bureau-scores")

    card = await client.get("/v1/reports/cdo-scorecard", headers=city, params=_window())
    assert card.status_code == 200, card.text
    rows = card.json()["rows"]
    assert rows
    shown = {r["organisation_id"] for r in rows}
    assert "gz-gaj" in shown
    assert not shown & {"gd-gat", "gd-dsb", "sz-gaj", "sz-dsb"}  # its jurisdiction only
    [gaj] = [r for r in rows if r["organisation_id"] == "gz-gaj" and r["appointment_id"]]
    daily = next(i for i in gaj["indicators"] if i["indicator"] == "daily_management")
    assert (daily["value"], daily["score"], daily["weight"]) == (90, 90, 10)  # the later one
    assert daily["comment"] == "日常管理制度健全，台账规范"
    assert gaj["total"] is not None
    assert set(gaj["groups"]) == {"key_tasks", "daily_management"}


async def test_reports_are_bounded_by_the_readers_jurisdiction(
    client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    async def organisations(org: str) -> set[str]:
        reader = bearer(await token_for(org, "reports:read"))
        report = await client.get("/v1/reports/cdo-evaluation", headers=reader, params=_window())
        assert report.status_code == 200, report.text
        return {r["organisation_id"] for r in report.json()["rows"]}

    province, city, department = (
        await organisations("gd-dsb"),
        await organisations("gz-dsb"),
        await organisations("gz-gaj"),
    )
    assert {"gd-gat", "gz-gaj", "sz-gaj"} <= province
    assert "gz-gaj" in city
    assert not city & {"gd-gat", "gd-dsb", "sz-gaj", "sz-dsb", "sg-gov"}
    assert department == {"gz-gaj"}


async def test_the_scorecard_csv_has_chinese_headers(
    client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    reader = bearer(await token_for("gz-dsb", "reports:read"))
    params = _window() | {"format": "csv"}
    chinese = await client.get("/v1/reports/cdo-scorecard", headers=reader, params=params)
    assert chinese.status_code == 200, chinese.text
    header = next(csv.reader(io.StringIO(chinese.content.decode("utf-8-sig"))))
    assert header[:5] == ["单位代码", "单位名称", "层级", "首席数据官", "综合得分"]
    assert "重点工作部署得分" in header
    assert "按时办理率（权重25）" in header
    english = await client.get(
        "/v1/reports/cdo-scorecard", headers=reader, params=params | {"lang": "en"}
    )
    header = next(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))
    assert header[:5] == ["organisation_id", "organisation_name", "level", "person_name", "total"]


async def test_the_indicators_in_force_are_published(
    client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    reader = bearer(await token_for("gz-gaj", ALL_SCOPES + " reports:read"))
    indicators = (await client.get("/v1/evaluation/indicators", headers=reader)).json()
    assert [g["id"] for g in indicators["groups"]] == ["key_tasks", "daily_management"]
    assert sum(i["weight"] for i in indicators["indicators"]) == 100
