"""The scorecard as a CSV a bureau forwards upward: one row per CDO, a column per indicator's
score, each group's and the total; headers in Chinese unless English is asked for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from broker.evaluation.indicators import Indicators
from broker.evaluation.schemas import ScorecardJson
from broker.kit.languages import Language
from broker.reports.schemas import CSV_HEADERS_ZH
from broker.reports.service import csv_text

_FIXED = ("organisation_id", "organisation_name", "level", "person_name", "total")
# the report's words for the columns the two share (GLOSSARY.md's), and the scorecard's own
_FIXED_ZH = CSV_HEADERS_ZH | {"total": "综合得分"}


def scorecard_csv(card: ScorecardJson, indicators: Indicators, language: Language) -> str:
    zh = language is Language.zh
    columns = [*_FIXED, *(f"group:{g.id}" for g in indicators.groups)]
    columns += [f"indicator:{i.id}" for i in indicators.indicators]
    headers = [
        *(_FIXED_ZH[c] if zh else c for c in _FIXED),
        *((f"{g.name}得分" if zh else f"{g.id}_score") for g in indicators.groups),
        *(
            (f"{i.name}（权重{i.weight:g}）" if zh else f"{i.id}_score")
            for i in indicators.indicators
        ),
    ]
    rows: list[dict[str, Any]] = []
    for row in card["rows"]:
        fields: Mapping[str, object] = row
        values: dict[str, Any] = {c: fields[c] for c in _FIXED}
        values |= {f"group:{g}": score for g, score in row["groups"].items()}
        values |= {f"indicator:{r['indicator']}": r["score"] for r in row["indicators"]}
        rows.append(values)
    return csv_text(headers, rows, columns)
