"""A scorecard row from a CDO's row of the evaluation report, its kinds of decision and the
scores bureaus entered (pure): each indicator's value and score, and the weighted totals."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from broker.evaluation.indicators import Indicators
from broker.evaluation.measures import KindCounts, measures
from broker.evaluation.schemas import (
    IndicatorResultJson,
    Scorecard,
    ScorecardJson,
    ScorecardRowJson,
)
from broker.reports.schemas import CdoEvaluationRow
from core.models.evaluation import EvaluationScore


def scorecard_row(
    row: CdoEvaluationRow,
    kinds: KindCounts,
    entered: Mapping[tuple[str, str], EvaluationScore],
    indicators: Indicators,
) -> ScorecardRowJson:
    """`entered`: the latest score of each (body, entered indicator). Numbers are floats, as
    `Scorecard` declares them (a count of 3 is 3.0 in the JSON, as the model answered it)."""
    values = measures(row, kinds)
    results: list[IndicatorResultJson] = []
    for indicator in indicators.indicators:
        comment = None
        if indicator.source == "entered":
            entry = entered.get((row.organisation_id, indicator.id))
            value = float(entry.score) if entry else None
            comment = entry.comment if entry else None
        else:
            assert indicator.measure is not None
            measured = values[indicator.measure]
            value = None if measured is None else float(measured)
        results.append(
            {
                "indicator": indicator.id,
                "value": value,
                "score": indicator.score(value),
                "weight": float(indicator.weight),
                "comment": comment,
            }
        )
    total, groups = indicators.totals([r["score"] for r in results])
    return {
        "organisation_id": row.organisation_id,
        "organisation_name": row.organisation_name,
        "level": row.level.value,
        "appointment_id": row.appointment_id,
        "person_name": row.person_name,
        "total": total,
        "groups": groups,
        "indicators": results,
    }


def scorecard_json(
    start: datetime, end: datetime, reader: str, rows: list[ScorecardRowJson]
) -> ScorecardJson:
    """The whole answer; its times written by `Scorecard` itself, as the model writes them."""
    head = Scorecard.model_validate(
        {"from": start, "to": end, "evaluated_by": reader, "rows": []}
    ).model_dump(mode="json", by_alias=True)
    return {"from": head["from"], "to": head["to"], "evaluated_by": reader, "rows": rows}
