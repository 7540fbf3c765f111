"""The evaluation's indicators as data: the packaged file loads, its schema has a public copy,
a bad file is refused naming the entry, and scores and totals are computed as documented."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from broker.evaluation.indicators import (
    DEFAULT_FILE,
    SCHEMA_FILE,
    Indicator,
    IndicatorsError,
    load_indicators,
    parse_indicators,
)

PUBLIC_SCHEMA = Path(__file__).parents[3] / "schemas" / "evaluation-indicators.schema.json"
DEFAULT: dict[str, Any] = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))


def test_the_default_indicators_load_in_both_groups_of_the_seed() -> None:
    indicators = load_indicators()
    assert [g.name for g in indicators.groups] == ["重点工作部署", "日常管理"]
    assert sum(i.weight for i in indicators.indicators) == 100
    sources = {i.source for i in indicators.indicators}
    assert sources == {"computed", "entered"}
    measured = {i.measure for i in indicators.indicators}
    assert {"on_time_rate", "decision_working_days_median", "vetoes"} <= measured
    assert {"demands_coordinated", "escalations_caused"} <= measured


def test_the_public_schema_is_the_loaders() -> None:
    assert PUBLIC_SCHEMA.read_text(encoding="utf-8") == SCHEMA_FILE.read_text(encoding="utf-8")


def _broken(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(DEFAULT)
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["indicators"][0].update(weight=30), "weights sum to 105"),
        (lambda d: d["indicators"][1].update(id=d["indicators"][0]["id"]), "$.indicators[1].id"),
        (lambda d: d["indicators"][0].update(group="elsewhere"), "$.indicators[0].group"),
        (lambda d: d["indicators"][0].update(measure="vetoes"), "$.indicators[0].measure"),
        (lambda d: d["indicators"][1].pop("best"), "$.indicators[1]"),
        (lambda d: d["indicators"][1].update(measure="mood"), "$.indicators[1].measure"),
    ],
)
def test_a_bad_file_is_refused_naming_the_entry(change: Any, named: str) -> None:
    with pytest.raises(IndicatorsError) as raised:
        parse_indicators(_broken(change), source="ops.yaml")
    assert named in str(raised.value)
    assert "ops.yaml" in str(raised.value)


def test_a_measure_scores_linearly_between_worst_and_best() -> None:
    faster = Indicator("t", "g", "用时", "time", "computed", 10, "x", best=1, worst=5)
    assert [faster.score(v) for v in (0.5, 1, 3, 5, 9, None)] == [100, 100, 50, 0, 0, None]
    entered = Indicator("e", "g", "日常", "daily", "entered", 10)
    assert entered.score(87) == 87


def test_the_total_leaves_out_what_has_no_score() -> None:
    indicators = load_indicators()
    everything = {i.id: 80.0 for i in indicators.indicators}
    assert indicators.total(everything) == 80.0
    # a bureau that has not scored yet does not mark the CDO down
    computed_only = {
        i.id: (90.0 if i.source == "computed" else None) for i in indicators.indicators
    }
    assert indicators.total(computed_only) == 90.0
    assert indicators.total({}) is None
    assert indicators.total(everything, group="key_tasks") == 80.0
