"""A service's lookup by id ends the same way in every domain: the row, or the domain's 404.
Said once here; each domain keeps its own NotFound type (its words, the id it names)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from broker.kit.problems import NotFound

T = TypeVar("T")
P = ParamSpec("P")


def found(row: T | None, missing: Callable[P, NotFound], *args: P.args, **kwargs: P.kwargs) -> T:
    """`row`, as the lookup found it, or its 404 `missing(*args, **kwargs)` raised (lookups
    scoped to the caller find None for a row it may not see, so that is answered as a row that
    is not there)."""
    if row is None:
        raise missing(*args, **kwargs)
    return row
