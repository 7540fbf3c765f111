"""The scorecard's rows are built as plain dicts, not models (a model per indicator per row cost
the province's scorecard seconds): they must be exactly what `Scorecard`, the contract, would
have answered, byte for byte, and their totals those of `Indicators.total`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.responses import JSONResponse

from broker.evaluation.card import scorecard_json, scorecard_row
from broker.evaluation.indicators import load_indicators
from broker.evaluation.measures import KindCounts
from broker.evaluation.schemas import Scorecard
from broker.reports.schemas import CdoEvaluationRow
from core.models.evaluation import EvaluationScore
from testing.clients import TokenFactory, bearer

INDICATORS = load_indicators()
# An idle row: every count 0, every percentile and name null.
IDLE: dict[str, Any] = {
    name: 0 if field.annotation is int else None
    for name, field in CdoEvaluationRow.model_fields.items()
}


def _row(org: str, appointment: str | None, **measures: Any) -> CdoEvaluationRow:
    return CdoEvaluationRow.model_validate(
        IDLE | {"organisation_id": org, "organisation_name": f"{org} 名称", "level": "city",
                "appointment_id": appointment, "person_name": "张三" if appointment else None,
                **measures}
    )  # fmt: skip


def _rendered(card: object) -> bytes:
    return bytes(JSONResponse(card).body)


def test_the_rows_are_what_the_model_answers_byte_for_byte() -> None:
    rows = [
        # counts (ints) where the contract has floats; a working-time median; a bureau's score
        _row("gz-gaj", "apt_1", decided=7, sla_breaches=3, escalations_caused=2,
             decision_working_seconds_median=45_000),
        _row("gz-gaj", None, decided=1),  # activity while the body had no CDO
        _row("sz-gaj", "apt_2"),  # idle: nothing to measure, nothing entered
    ]  # fmt: skip
    kinds = {("gz-gaj", "apt_1"): KindCounts(demands=4, it_projects=1, vetoes=1)}
    entered = {
        ("gz-gaj", "daily_management"): EvaluationScore(
            organisation_id="gz-gaj", indicator="daily_management", score=86, comment="台账规范"
        )
    }
    built = [
        scorecard_row(row, kinds.get((row.organisation_id, row.appointment_id), KindCounts()),
                      entered, INDICATORS)
        for row in rows
    ]  # fmt: skip
    start = datetime(2026, 1, 1, tzinfo=UTC) - timedelta(hours=8)
    card = scorecard_json(start, datetime(2027, 1, 1, tzinfo=UTC), "gz-dsb", built)

    model = Scorecard.model_validate(card).model_dump(mode="json", by_alias=True)
    assert _rendered(card) == _rendered(model)
    daily = next(i for i in built[0]["indicators"] if i["indicator"] == "daily_management")
    assert (daily["value"], daily["score"], daily["comment"]) == (86.0, 86.0, "台账规范")
    for row in built:
        scores = {i["indicator"]: i["score"] for i in row["indicators"]}
        assert row["total"] == INDICATORS.total(scores)
        assert row["groups"] == {g.id: INDICATORS.total(scores, g.id) for g in INDICATORS.groups}
    assert built[0]["total"] is not None
    unscored = next(i for i in built[2]["indicators"] if i["indicator"] == "daily_management")
    assert (unscored["value"], unscored["score"]) == (None, None)  # none entered, none invented


@pytest.mark.integration
async def test_the_endpoint_answers_what_the_model_would(
    client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    bureau = bearer(await token_for("gz-dsb", "evaluation:score reports:read"))
    scored = await client.post(
        "/v1/evaluation/scores",
        headers=bureau,
        json={"organisation_id": "gz-gaj", "indicator": "daily_management", "score": 77,
              "comment": "制度健全", "period_start": "2026-01-01", "period_end": "2027-01-01"},
    )  # fmt: skip
    assert scored.status_code == 201, scored.text
    window = {"from": "2026-01-01T00:00:00+08:00",
              "to": (datetime.now(UTC) + timedelta(days=1)).isoformat()}  # fmt: skip
    answer = await client.get("/v1/reports/cdo-scorecard", headers=bureau, params=window)
    assert answer.status_code == 200, answer.text
    model = Scorecard.model_validate_json(answer.content)
    assert answer.content == _rendered(model.model_dump(mode="json", by_alias=True))
    assert any(i.comment == "制度健全" for row in model.rows for i in row.indicators)
