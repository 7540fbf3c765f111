"""The percentile the evaluation report uses: nearest rank, always one of the values."""

from __future__ import annotations

import pytest

from broker.reports.service import nearest_rank


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
