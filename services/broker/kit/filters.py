"""Optional equality filters: a listing's query parameters narrow its query only when given."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import QueryableAttribute

_Query = TypeVar("_Query", bound=Select[Any])


def where_given(query: _Query, *filters: tuple[QueryableAttribute[Any], object]) -> _Query:
    """`query` narrowed to rows whose column equals the value, for each (column, value) pair
    whose value is not None (a parameter left out filters nothing), in the order given."""
    for column, value in filters:
        if value is not None:
            query = query.where(column == value)
    return query
