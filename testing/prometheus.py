"""Reading Prometheus text exposition in tests."""

from __future__ import annotations


def series_value(text: str, series: str, **labels: str) -> float:
    """The sum of `series` over the lines carrying every label given (0 when none does)."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith((series + "{", series + " ")) and all(
            f'{k}="{v}"' in line for k, v in labels.items()
        ):
            total += float(line.rsplit(" ", 1)[1])
    return total
