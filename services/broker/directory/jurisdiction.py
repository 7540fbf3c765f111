"""Jurisdiction: which bodies a caller may administer. Pure functions over the directory view.

CONTRACT v2 ("Authority"): a data bureau's jurisdiction is its own government, every government
below it, and their departments and bureaus; the provincial bureau's is the whole province. Any
other body's is itself alone: holding `directory:admin` or `catalog:admin` makes a department
or a government no administrator of anybody else. The services ask these functions before each
admin write, and answer 403 `outside-jurisdiction` when they say no.
"""

from __future__ import annotations

from broker.routing.model import DirectoryView, RoutingError


def covers(directory: DirectoryView, caller_id: str, body_id: str) -> bool:
    """Whether `body_id` is inside `caller_id`'s jurisdiction (a body is always in its own)."""
    if caller_id == body_id:
        return True
    return _bureau_covers(directory, caller_id, body_id)


def covers_new_body(directory: DirectoryView, caller_id: str, *, placed_under: str | None) -> bool:
    """Whether the caller may add a body placed under `placed_under` (a department's or bureau's
    government, a government's parent). Only a bureau adds bodies, and only below a government
    in its jurisdiction; a body placed under nothing (a second province) is nobody's to add."""
    return placed_under is not None and _bureau_covers(directory, caller_id, placed_under)


def _bureau_covers(directory: DirectoryView, caller_id: str, body_id: str) -> bool:
    caller = directory.organisations.get(caller_id)
    if caller is None or caller.kind != "data_bureau" or caller.government_id is None:
        return False
    try:
        return caller.government_id in directory.governments_up(body_id)
    except RoutingError:  # an unknown body or a broken tree: inside nobody's jurisdiction
        return False
