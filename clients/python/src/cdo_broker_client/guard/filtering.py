"""Cutting a JSON answer down to what a grant covers: its fields, and for a data return its
jurisdiction. Pure functions; the guard applies them to every successful JSON answer.

A record is a JSON object whose keys are the dataset's field names. An answer is one record, a
list of records, or an object holding the list under `records_key` (its other keys, such as a
cursor, are the API's own and stay). Whatever is not a record where one is expected is dropped:
the guard never lets through what it cannot tell is granted.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any


class OutsideJurisdiction(Exception):
    """A single-record answer about a body outside the granted jurisdiction."""


def division_contains(outer: str, inner: str) -> bool:
    """GB/T 2260, as the broker reads it: 440000 contains 4401xx, 440100 contains 44010x;
    towns (9 digits) extend their county's code."""
    prefix = outer
    while len(prefix) > 2 and prefix.endswith("00") and len(prefix) <= 6:
        prefix = prefix[:-2]
    return inner.startswith(prefix)


def _record(
    item: Any, fields: Collection[str], jurisdiction: str | None, jurisdiction_field: str | None
) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return None
    if jurisdiction is not None:
        code = item.get(jurisdiction_field) if jurisdiction_field else None
        if not isinstance(code, str) or not division_contains(jurisdiction, code):
            return None
    return {key: value for key, value in item.items() if key in fields}


def filter_answer(
    document: Any,
    fields: Collection[str],
    *,
    records_key: str | None = None,
    jurisdiction: str | None = None,
    jurisdiction_field: str | None = None,
) -> Any:
    """The answer with only `fields` in each record, and for a return only the records whose
    `jurisdiction_field` lies inside `jurisdiction` (a lone record outside it raises)."""

    def records(items: list[Any]) -> list[dict[str, Any]]:
        kept = (_record(i, fields, jurisdiction, jurisdiction_field) for i in items)
        return [record for record in kept if record is not None]

    if isinstance(document, list):
        return records(document)
    if records_key is not None and isinstance(document, dict) and records_key in document:
        inner = document[records_key]
        return document | {records_key: records(inner if isinstance(inner, list) else [inner])}
    record = _record(document, fields, jurisdiction, jurisdiction_field)
    if record is None:
        raise OutsideJurisdiction("the record is outside the granted jurisdiction")
    return record
