"""kit/changes.py: a PATCH body changes what it sets to a different value, and says so; what it
leaves out or sets to null stays as it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel

from broker.kit.changes import apply_change


@dataclass
class Row:
    name: str
    grade: str
    until: date | str | None


class Change(BaseModel):
    name: str | None = None
    grade: str | None = None
    until: date | None = None


def test_only_fields_set_to_a_different_value_change_and_are_returned_before_and_after() -> None:
    row = Row(name="old", grade="A", until=None)

    changed = apply_change(row, Change(name="new", grade="A", until=None))

    assert changed == {"name": ("old", "new")}
    assert row == Row(name="new", grade="A", until=None)


def test_nothing_set_changes_nothing() -> None:
    row = Row(name="old", grade="A", until=None)

    assert apply_change(row, Change()) == {}
    assert row == Row(name="old", grade="A", until=None)


def test_json_mode_compares_and_sets_the_values_as_json_holds_them() -> None:
    row = Row(name="old", grade="A", until="2026-12-31")

    assert apply_change(row, Change(until=date(2026, 12, 31)), mode="json") == {}
    changed = apply_change(row, Change(until=date(2027, 1, 31)), mode="json")

    assert changed == {"until": ("2026-12-31", "2027-01-31")}
    assert row.until == "2027-01-31"
