"""A row's attributes by name: for a model (an event, a view, a feed row) that repeats several of
a row's attributes under the same names, listed once, as data, where the model is built."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def attributes(row: object, names: Iterable[str]) -> dict[str, Any]:
    """`row`'s attributes `names`, by name: keyword arguments for a model that says them as they
    are."""
    return {name: getattr(row, name) for name in names}
