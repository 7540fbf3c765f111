"""Filing (备案) of CDO appointments: with which bureau, the receipt it gives, and a body's
filing state. Pure functions over the directory view.

The seed (三(一)): a pilot city's or county's government CDO is appointed by the city's
digital-government leading group and filed with a data bureau; a department's CDO is appointed by
the department and filed with its own government's data bureau (报本级政务服务数据管理部门备案).
CONTRACT v2 reads the first as "the bureau one level up" (a city's with the provincial bureau, a
county's or town's with its city's), and that is the rule here: `filing_bureau`. The seed's own
sentence names the provincial bureau for county CDOs too; should the project read it so, this
function is the one place to change. Where the government named has no bureau (counties and
towns have none), the nearest bureau above it takes the filing, as it acts for that level in
routing. A data bureau's own CDO is filed as its government's is, one level up: no bureau takes
its own CDO's filing while there is one above it. The provincial government and the provincial
bureau, with nobody above them, file with the provincial bureau.

A receipt (备案号) reads `<bureau's division code>-<year>-<sequence>`, e.g. `440000-2021-0007`:
the seventh appointment the provincial bureau (440000) filed in 2021. Digits and hyphens, so any
system and any keyboard can carry it. The number runs per bureau and year (the database holds
it to that), so a receipt is unique for its bureau, and across bureaus as far as their division
codes differ: a government, and so its one bureau, has a code of its own.
"""

from __future__ import annotations

from enum import StrEnum

from broker.routing.model import DirectoryView, RoutingError


class FilingState(StrEnum):
    filed = "filed"  # an active CDO, filed with the bureau the rules name
    misfiled = "misfiled"  # an active CDO filed elsewhere (before the rule, or the tree moved)
    vacant = "vacant"  # no CDO in office


def filing_bureau(directory: DirectoryView, organisation_id: str) -> str | None:
    """The data bureau a CDO appointment of this body is filed with; None when the directory
    has no bureau above it (only a broken directory)."""
    body = directory.organisation(organisation_id)
    if body.kind == "department":
        return directory.data_bureau_for(body.id)
    # A government, and its data bureau with it: one level up, or the top's own bureau.
    government = directory.organisation(directory.government_of(body.id))
    return directory.data_bureau_for(government.parent_id or government.id)


def receipt_number(division_code: str, year: int, sequence: int) -> str:
    return f"{division_code}-{year}-{sequence:04d}"


def filing_state(*, filed_with_id: str | None, expected_id: str | None) -> FilingState:
    """`filed_with_id` is the active appointment's bureau, None when the body has no CDO."""
    if filed_with_id is None:
        return FilingState.vacant
    return FilingState.filed if filed_with_id == expected_id else FilingState.misfiled


def roster_bodies(directory: DirectoryView, subject_id: str) -> list[str]:
    """The bodies a CDO roster of `subject_id` lists, sorted: for a government or its data
    bureau, that government and every body under it (its departments and bureau, the
    governments below and theirs); for a department, itself."""
    if directory.organisation(subject_id).kind == "department":
        return [subject_id]
    government = directory.government_of(subject_id)
    return sorted(
        org_id for org_id in directory.organisations if _under(directory, org_id, government)
    )


def _under(directory: DirectoryView, org_id: str, government: str) -> bool:
    try:
        return government in directory.governments_up(org_id)
    except RoutingError:  # a broken tree: on nobody's roster
        return False
