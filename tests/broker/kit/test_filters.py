"""A listing's optional filters: each given value narrows the query, a value left out does not."""

from __future__ import annotations

from sqlalchemy import Select, select

from broker.kit.filters import equal_where_given, where_given
from core.models.directory import Organisation


def _where(query: Select[tuple[Organisation]]) -> str:
    return str(query).partition("WHERE")[2].strip()


def test_each_given_value_narrows_in_the_order_given() -> None:
    query = where_given(
        select(Organisation),
        (Organisation.level, "city"),
        (Organisation.kind, None),
        (Organisation.parent_id, "gd"),
    )
    assert _where(query) == (
        "organisations.level = :level_1 AND organisations.parent_id = :parent_id_1"
    )
    assert query.compile().params == {"level_1": "city", "parent_id_1": "gd"}


def test_no_value_given_leaves_the_query_as_it_was() -> None:
    query = select(Organisation).order_by(Organisation.id)
    assert str(where_given(query, (Organisation.level, None), (Organisation.kind, None))) == str(
        query
    )


def test_a_false_or_empty_value_is_still_a_filter() -> None:
    # Only None means "not given": an empty string is a value the caller asked for.
    query = where_given(select(Organisation), (Organisation.kind, ""))
    assert query.compile().params == {"kind_1": ""}


def test_the_conditions_alone_are_those_of_the_values_given() -> None:
    # For a listing that puts the same conditions in a subquery and in its outer query.
    conditions = equal_where_given((Organisation.level, "city"), (Organisation.kind, None))
    assert [str(condition) for condition in conditions] == ["organisations.level = :level_1"]
    assert equal_where_given((Organisation.kind, None)) == []
