"""The pilot seed file (`services/broker/seed/pilot.yaml`) matches the pilot scope of the 2021 plan.

Plain checks on the data file itself: no database, no project imports.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest
import yaml

PILOT_FILE = Path(__file__).resolve().parents[2] / "services" / "broker" / "seed" / "pilot.yaml"

PILOT_CITIES = {
    "440100", "440200", "440300", "440400", "440600",
    "440700", "440900", "441200", "441600", "442000",
}  # fmt: skip
# Zhongshan has no districts: its towns and subdistricts sit directly under the city.
CITIES_WITHOUT_DISTRICTS = {"442000"}
PILOT_PROVINCE_DEPARTMENTS = {
    "广东省公安厅",
    "广东省人力资源和社会保障厅",
    "广东省自然资源厅",
    "广东省生态环境厅",
    "广东省医疗保障局",
    "广东省地方金融监督管理局",
}
KINDS = {"government", "department", "data_bureau"}
LEVELS = {"province", "city", "county", "town"}
SHARING_CLASSES = {"unconditional", "conditional", "not_shareable"}
ORG_KEYS = {
    "id", "name", "name_en", "kind", "level", "division_code",
    "government_id", "parent_id", "pilot",
}  # fmt: skip
DATASET_KEYS = {
    "id", "name", "name_en", "owner_id", "sharing_class", "fields",
    "grade", "resource_code", "sharing_method", "update_cycle", "open_attribute",
}  # fmt: skip
GRADES = {"general", "important", "core"}
CDO_KEYS = {"person_name", "title", "appointed_by", "filed_with", "starts_on", "filed_on"}
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
# The plan (23 April 2021) wanted the CDO lists filed by the end of May 2021 (四(一)).
PLAN_DAY, LISTS_DUE = date(2021, 4, 23), date(2021, 5, 31)


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(PILOT_FILE.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def orgs(data: dict[str, Any]) -> list[dict[str, Any]]:
    organisations: list[dict[str, Any]] = data["organisations"]
    return organisations


@pytest.fixture(scope="module")
def by_id(orgs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in orgs}


@pytest.fixture(scope="module")
def datasets(data: dict[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = data["datasets"]
    return entries


def _members(orgs: list[dict[str, Any]], government_id: str) -> list[dict[str, Any]]:
    return [o for o in orgs if o["government_id"] == government_id]


def _children(orgs: list[dict[str, Any]], government_id: str) -> list[dict[str, Any]]:
    return [o for o in orgs if o["parent_id"] == government_id]


def _bureau_of(orgs: list[dict[str, Any]], government_id: str) -> dict[str, Any]:
    bureaus = [o for o in _members(orgs, government_id) if o["kind"] == "data_bureau"]
    assert len(bureaus) == 1, government_id
    return bureaus[0]


# --- shape ---------------------------------------------------------------------------------------


def test_top_level_sections(data: dict[str, Any]) -> None:
    assert set(data) == {"organisations", "datasets"}
    assert isinstance(data["organisations"], list)
    assert isinstance(data["datasets"], list)


def test_organisation_entries_are_well_formed(orgs: list[dict[str, Any]]) -> None:
    for org in orgs:
        assert set(org) >= ORG_KEYS, org.get("id")
        assert set(org) <= ORG_KEYS | {"cdo"}, org["id"]
        assert SLUG.match(org["id"]), org["id"]
        assert len(org["id"]) <= 64, org["id"]
        assert org["kind"] in KINDS, org["id"]
        assert org["level"] in LEVELS, org["id"]
        assert isinstance(org["pilot"], bool), org["id"]
        assert isinstance(org["division_code"], str), org["id"]
        assert org["name"], org["id"]
        assert len(org["name"]) <= 200, org["id"]
        assert org["name_en"], org["id"]
        assert len(org["name_en"]) <= 300, org["id"]


def test_organisation_ids_and_names_are_unique(orgs: list[dict[str, Any]]) -> None:
    ids = Counter(o["id"] for o in orgs)
    assert [i for i, n in ids.items() if n > 1] == []
    names = Counter(o["name"] for o in orgs)
    assert [name for name, n in names.items() if n > 1] == []


# --- references and ordering ---------------------------------------------------------------------


def test_references_point_to_existing_organisations(
    orgs: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]
) -> None:
    for org in orgs:
        for key in ("government_id", "parent_id"):
            if org[key] is not None:
                assert org[key] in by_id, (org["id"], key, org[key])
        if org.get("cdo"):
            assert org["cdo"]["filed_with"] in by_id, org["id"]


def test_parents_are_listed_before_their_members_and_children(orgs: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for org in orgs:
        for key in ("government_id", "parent_id"):
            if org[key] is not None:
                assert org[key] in seen, f"{org['id']} is listed before its {key} {org[key]}"
        seen.add(org["id"])


def test_government_hierarchy(orgs: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]) -> None:
    expected_parent_level = {"province": None, "city": "province", "county": "city", "town": "city"}
    for org in orgs:
        if org["kind"] == "government":
            assert org["government_id"] is None, org["id"]
            want = expected_parent_level[org["level"]]
            if want is None:
                assert org["parent_id"] is None, org["id"]
            else:
                parent = by_id[org["parent_id"]]
                assert parent["kind"] == "government", org["id"]
                assert parent["level"] == want, org["id"]
        else:
            assert org["parent_id"] is None, org["id"]
            government = by_id[org["government_id"]]
            assert government["kind"] == "government", org["id"]
            assert org["level"] == government["level"], org["id"]
            assert org["division_code"] == government["division_code"], org["id"]


def test_towns_only_under_cities_without_districts(
    orgs: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]
) -> None:
    for org in orgs:
        if org["kind"] == "government" and org["level"] in ("county", "town"):
            city_code = by_id[org["parent_id"]]["division_code"]
            expected = "town" if city_code in CITIES_WITHOUT_DISTRICTS else "county"
            assert org["level"] == expected, org["id"]


# --- division codes ------------------------------------------------------------------------------


def test_division_code_shapes(orgs: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]) -> None:
    for org in orgs:
        code = org["division_code"]
        if org["level"] == "town":
            assert re.fullmatch(r"\d{9}", code), org["id"]
        else:
            assert re.fullmatch(r"\d{6}", code), org["id"]
        assert code.startswith("44"), org["id"]  # Guangdong
        if org["kind"] != "government":
            continue
        if org["level"] == "province":
            assert code == "440000", org["id"]
        elif org["level"] == "city":
            assert code.endswith("00"), org["id"]
            assert not code.endswith("0000"), org["id"]
        elif org["level"] == "county":
            city_code = by_id[org["parent_id"]]["division_code"]
            assert code[:4] == city_code[:4], org["id"]
            assert not code.endswith("00"), org["id"]
        else:
            city_code = by_id[org["parent_id"]]["division_code"]
            assert code[:6] == city_code, org["id"]


def test_government_division_codes_are_unique(orgs: list[dict[str, Any]]) -> None:
    codes = Counter(o["division_code"] for o in orgs if o["kind"] == "government")
    assert [c for c, n in codes.items() if n > 1] == []


# --- pilot scope ---------------------------------------------------------------------------------


def test_the_province_its_bureau_and_six_pilot_departments(orgs: list[dict[str, Any]]) -> None:
    province = [o for o in orgs if o["level"] == "province"]
    governments = [o for o in province if o["kind"] == "government"]
    assert len(governments) == 1
    government = governments[0]
    assert government["division_code"] == "440000"
    assert government["pilot"]
    assert government["cdo"]
    bureaus = [o for o in province if o["kind"] == "data_bureau"]
    assert len(bureaus) == 1
    assert bureaus[0]["pilot"]
    assert bureaus[0]["cdo"]
    departments = [o for o in province if o["kind"] == "department"]
    pilot = [o for o in departments if o["pilot"]]
    assert {o["name"] for o in pilot} == PILOT_PROVINCE_DEPARTMENTS
    assert all(o["cdo"] for o in pilot)
    outside = [o for o in departments if not o["pilot"]]
    assert len(outside) >= 2


def test_the_ten_pilot_cities(orgs: list[dict[str, Any]]) -> None:
    cities = [o for o in orgs if o["kind"] == "government" and o["level"] == "city"]
    pilot_codes = [o["division_code"] for o in cities if o["pilot"]]
    assert sorted(pilot_codes) == sorted(PILOT_CITIES)
    outside = [o for o in cities if not o["pilot"]]
    assert len(outside) >= 3
    for city in outside:
        assert not city.get("cdo"), city["id"]


@pytest.mark.parametrize("code", sorted(PILOT_CITIES))
def test_each_pilot_city_has_bureau_counties_and_departments(
    orgs: list[dict[str, Any]], code: str
) -> None:
    cities = [o for o in orgs if o["kind"] == "government" and o["level"] == "city"]
    city = next(o for o in cities if o["division_code"] == code)
    assert city["cdo"], city["id"]
    members = _members(orgs, city["id"])
    bureaus = [o for o in members if o["kind"] == "data_bureau"]
    assert len(bureaus) == 1, city["id"]
    assert bureaus[0]["pilot"], city["id"]
    assert bureaus[0]["cdo"], city["id"]
    departments = [o for o in members if o["kind"] == "department"]
    pilot_departments = [o for o in departments if o["pilot"]]
    assert len(pilot_departments) >= 5, city["id"]
    assert all(o["cdo"] for o in pilot_departments), city["id"]
    outside = [o for o in departments if not o["pilot"]]
    assert outside, f"{city['id']} has no department outside the pilot"
    below = _children(orgs, city["id"])
    pilot_below = [o for o in below if o["pilot"]]
    assert len(pilot_below) >= 3, city["id"]
    assert all(o["cdo"] for o in pilot_below), city["id"]
    expected_level = "town" if code in CITIES_WITHOUT_DISTRICTS else "county"
    assert {o["level"] for o in below} == {expected_level}, city["id"]


def test_bodies_under_non_pilot_cities_are_outside_the_pilot(
    orgs: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]
) -> None:
    for org in orgs:
        owner = org["government_id"] or org["parent_id"]
        if owner is not None and not by_id[owner]["pilot"]:
            assert not org["pilot"], org["id"]


def test_there_are_counties_outside_the_pilot(orgs: list[dict[str, Any]]) -> None:
    outside = [o for o in orgs if o["level"] in ("county", "town") and not o["pilot"]]
    assert len(outside) >= 5


# --- CDO appointments ----------------------------------------------------------------------------


def test_exactly_pilot_bodies_have_a_cdo(orgs: list[dict[str, Any]]) -> None:
    for org in orgs:
        if org["pilot"]:
            assert isinstance(org.get("cdo"), dict), f"pilot body {org['id']} has no CDO"
        else:
            assert not org.get("cdo"), f"{org['id']} is outside the pilot but has a CDO"


def test_cdo_appointments_are_well_formed(orgs: list[dict[str, Any]]) -> None:
    for org in orgs:
        cdo = org.get("cdo")
        if not cdo:
            continue
        assert set(cdo) == CDO_KEYS, org["id"]
        for key in ("person_name", "title", "appointed_by", "filed_with"):
            assert isinstance(cdo[key], str), (org["id"], key)
            assert cdo[key].strip(), (org["id"], key)
        assert "副" in cdo["title"], org["id"]  # a deputy head in charge of digital government
        assert isinstance(cdo["starts_on"], date), org["id"]
        assert isinstance(cdo["filed_on"], date), org["id"]
        assert PLAN_DAY < cdo["starts_on"] <= cdo["filed_on"] <= LISTS_DUE, org["id"]
        # Appointed and filed on working days (Saturday 8 May 2021 was one: Labour Day's 调休).
        assert chinese_calendar.is_workday(cdo["starts_on"]), org["id"]
        assert chinese_calendar.is_workday(cdo["filed_on"]), org["id"]


def test_cdo_people_are_distinct(orgs: list[dict[str, Any]]) -> None:
    people = Counter(o["cdo"]["person_name"] for o in orgs if o.get("cdo"))
    assert [p for p, n in people.items() if n > 1] == []


def test_cdo_filing_and_appointing_follow_the_plan(
    orgs: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]
) -> None:
    governments = [o for o in orgs if o["kind"] == "government"]
    province_government = next(o for o in governments if o["level"] == "province")
    province_bureau = _bureau_of(orgs, province_government["id"])
    for org in orgs:
        cdo = org.get("cdo")
        if not cdo:
            continue
        filed_with = by_id[cdo["filed_with"]]
        assert filed_with["kind"] == "data_bureau", org["id"]
        if org["kind"] == "government":
            # Government CDOs: appointed by a digital-government leading group, filed with the
            # data bureau one level up (CONTRACT v2): a city's with the provincial bureau, a
            # county's or town's with its city's; the province's with its own bureau.
            above = org["parent_id"] or org["id"]
            assert filed_with["id"] == _bureau_of(orgs, above)["id"], org["id"]
            assert cdo["appointed_by"].endswith("领导小组"), org["id"]
            if org["level"] in ("county", "town"):
                city = by_id[org["parent_id"]]
                assert cdo["appointed_by"] == city["cdo"]["appointed_by"], org["id"]
        elif org["kind"] == "department":
            # Department CDOs: appointed by the department, filed with the same level's bureau.
            assert filed_with["id"] == _bureau_of(orgs, org["government_id"])["id"], org["id"]
            assert cdo["appointed_by"].startswith(org["name"]), org["id"]
        else:
            # Data bureaus: as their government, so the provincial one files with itself and
            # city ones with the province.
            assert filed_with["id"] == province_bureau["id"], org["id"]
            assert cdo["appointed_by"].startswith(org["name"]), org["id"]


# --- catalog -------------------------------------------------------------------------------------


def test_dataset_entries_are_well_formed(datasets: list[dict[str, Any]]) -> None:
    for ds in datasets:
        assert set(ds) >= DATASET_KEYS, ds.get("id")
        assert set(ds) <= DATASET_KEYS | {"description", "sharing_conditions"}, ds["id"]
        assert ds["grade"] in GRADES, ds["id"]
        assert ds["sharing_method"] in {"api", "table", "file"}, ds["id"]
        # a conditional dataset says on what conditions it is shared
        assert ("sharing_conditions" in ds) == (ds["sharing_class"] != "unconditional"), ds["id"]
        assert SLUG.match(ds["id"]), ds["id"]
        assert len(ds["id"]) <= 100, ds["id"]
        assert ds["name"], ds["id"]
        assert len(ds["name"]) <= 200, ds["id"]
        assert ds["name_en"], ds["id"]
        assert len(ds["name_en"]) <= 300, ds["id"]
        assert ds["sharing_class"] in SHARING_CLASSES, ds["id"]


def test_dataset_ids_are_unique(datasets: list[dict[str, Any]]) -> None:
    ids = Counter(d["id"] for d in datasets)
    assert [i for i, n in ids.items() if n > 1] == []


def test_dataset_owners_are_departments(
    datasets: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]
) -> None:
    for ds in datasets:
        assert ds["owner_id"] in by_id, ds["id"]
        assert by_id[ds["owner_id"]]["kind"] == "department", ds["id"]


def test_dataset_fields(datasets: list[dict[str, Any]]) -> None:
    for ds in datasets:
        fields = ds["fields"]
        assert 6 <= len(fields) <= 15, ds["id"]
        for field in fields:
            assert {"name", "label"} <= set(field) <= {"name", "label", "personal", "sensitive"}
            # sensitive personal information (PIPL art. 28) is personal information too
            assert field.get("personal") or not field.get("sensitive"), (ds["id"], field["name"])
            assert SNAKE.match(field["name"]), (ds["id"], field["name"])
            assert isinstance(field["label"], str), (ds["id"], field["name"])
            assert field["label"].strip(), (ds["id"], field["name"])
        names = Counter(f["name"] for f in fields)
        assert [n for n, c in names.items() if c > 1] == [], ds["id"]


def test_catalog_has_every_grade_and_personal_fields(datasets: list[dict[str, Any]]) -> None:
    grades = Counter(d["grade"] for d in datasets)
    assert set(grades) == GRADES
    assert any(f.get("sensitive") for d in datasets for f in d["fields"])
    codes = [d["resource_code"] for d in datasets]
    assert len(set(codes)) == len(codes)


def test_catalog_size_and_classes(datasets: list[dict[str, Any]]) -> None:
    assert len(datasets) >= 30
    classes = Counter(d["sharing_class"] for d in datasets)
    assert set(classes) == SHARING_CLASSES
    assert classes["unconditional"] >= 10
    assert classes["conditional"] >= 10
    assert classes["not_shareable"] >= 3


def test_catalog_spans_levels_and_pilot_status(
    datasets: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]
) -> None:
    owners = [by_id[d["owner_id"]] for d in datasets]
    assert {o["level"] for o in owners} >= {"province", "city"}
    assert any(o["pilot"] for o in owners)
    assert any(not o["pilot"] for o in owners)
    province_pilot_owners = {o["id"] for o in owners if o["level"] == "province" and o["pilot"]}
    assert len(province_pilot_owners) == len(PILOT_PROVINCE_DEPARTMENTS)


def test_some_provincial_datasets_can_be_returned_by_jurisdiction(
    datasets: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]
) -> None:
    returnable = [
        d
        for d in datasets
        if by_id[d["owner_id"]]["level"] == "province"
        and d["sharing_class"] == "conditional"
        and any(f["name"].endswith("division_code") for f in d["fields"])
    ]
    assert len(returnable) >= 3
