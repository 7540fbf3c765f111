"""Where a CDO is filed (备案), on the pilot directory: pure rules, no database."""

from __future__ import annotations

import pytest

from broker.directory.filing import (
    FilingState,
    filing_bureau,
    filing_state,
    receipt_number,
    roster_bodies,
)
from broker.routing.model import DirectoryView, OrgView
from broker.seed.pilot import load_pilot

PILOT = load_pilot()["organisations"]
DIRECTORY = DirectoryView.of(
    OrgView(o["id"], o["kind"], o["level"], o["government_id"], o["parent_id"], bool(o.get("cdo")))
    for o in PILOT
)


@pytest.mark.parametrize(
    ("body", "bureau"),
    [
        ("gz-gov", "gd-dsb"),  # a city's government CDO: the provincial bureau
        ("gz-th-gov", "gz-dsb"),  # a county's (district's): its city's bureau
        ("gz-gaj", "gz-dsb"),  # a city department's: its own government's bureau
        ("gd-gat", "gd-dsb"),  # a provincial department's: the provincial bureau
        ("gz-dsb", "gd-dsb"),  # a city bureau's: as its government's, one level up
        ("gd-gov", "gd-dsb"),  # the top: nobody above, its own bureau
        ("gd-dsb", "gd-dsb"),
    ],
)
def test_each_kind_and_level_files_with_its_bureau(body: str, bureau: str) -> None:
    assert filing_bureau(DIRECTORY, body) == bureau


def test_zhongshans_towns_file_with_the_city_bureau() -> None:
    towns = [o["id"] for o in PILOT if o["level"] == "town" and o["kind"] == "government"]
    assert towns
    assert {filing_bureau(DIRECTORY, town) for town in towns} == {"zs-dsb"}


def test_the_seed_files_every_cdo_where_the_rule_says() -> None:
    for org in PILOT:
        if org.get("cdo"):
            assert org["cdo"]["filed_with"] == filing_bureau(DIRECTORY, org["id"]), org["id"]


def test_a_county_department_without_a_bureau_of_its_own_files_with_the_one_above() -> None:
    directory = DirectoryView.of(
        [
            *DIRECTORY.organisations.values(),
            OrgView("gz-th-edu", "department", "county", "gz-th-gov", None, True),
        ]
    )
    assert filing_bureau(directory, "gz-th-edu") == "gz-dsb"


def test_receipts_read_bureau_year_and_number() -> None:
    assert receipt_number("440000", 2021, 7) == "440000-2021-0007"
    assert receipt_number("440100", 2026, 12345) == "440100-2026-12345"


def test_filing_states() -> None:
    assert filing_state(filed_with_id=None, expected_id="gd-dsb") is FilingState.vacant
    assert filing_state(filed_with_id="gd-dsb", expected_id="gd-dsb") is FilingState.filed
    assert filing_state(filed_with_id="gd-dsb", expected_id="gz-dsb") is FilingState.misfiled


def test_a_roster_covers_the_government_and_everything_under_it() -> None:
    guangzhou = roster_bodies(DIRECTORY, "gz-gov")
    assert roster_bodies(DIRECTORY, "gz-dsb") == guangzhou
    assert {"gz-gov", "gz-dsb", "gz-gaj", "gz-th-gov"} <= set(guangzhou)
    assert not {o for o in guangzhou if not o.startswith("gz-")}
    province = roster_bodies(DIRECTORY, "gd-dsb")
    assert set(province) == set(DIRECTORY.organisations)
    assert roster_bodies(DIRECTORY, "gz-gaj") == ["gz-gaj"]
