"""Optional equality filters: a listing's query parameters narrow its query only when given."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import QueryableAttribute

_Query = TypeVar("_Query", bound=Select[Any])


def equal_where_given(
    *filters: tuple[QueryableAttribute[Any], object],
) -> list[ColumnElement[bool]]:
    """`column == value` for each (column, value) pair whose value is not None (a parameter left
    out filters nothing), in the order given: for a listing that puts them in more than one
    query."""
    return [column == value for column, value in filters if value is not None]


def where_given(query: _Query, *filters: tuple[QueryableAttribute[Any], object]) -> _Query:
    """`query` narrowed to rows whose column equals the value, for each (column, value) pair
    whose value is not None (a parameter left out filters nothing), in the order given."""
    return query.where(*equal_where_given(*filters))
