"""The whole province for `cdo-broker seed-province`: every city, county and town of Guangdong,
their departments and bureaus, CDO appointments with their history, and a catalog. Pure and
deterministic: the same seed and size give the same rows (seed/province_load.py writes them).

Bodies the pilot seed already holds are kept as they are: a generated government whose division
code a pilot government has is that pilot body (with its id), and a generated department whose
name a pilot department of that government has is skipped. So the pilot's ids, CDOs and
datasets stay valid, and the province is the pilot grown to its full extent.

Real and generated data: see guangdong.yaml. Every generated name of a person is invented.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

DIVISIONS_FILE = Path(__file__).with_name("guangdong.yaml")
CHINA = ZoneInfo("Asia/Shanghai")
PROVINCE_CODE = "440000"
# Who has a CDO, by level: the scheme spread from the pilot to every city; most counties and
# about half the towns have followed.
_CDO_SHARE = {"province": 0.95, "city": 0.9, "county": 0.75, "town": 0.5}
_SCHEME_OPENS = date(2021, 6, 1)  # the first appointments after the pilot's
_SURNAMES = "陈林黄张李王吴刘蔡杨许郑谢郭洪邱曾廖赖徐周叶苏庄吕江何萧罗高潘简朱钟彭游詹胡施沈余卢梁"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文辉建国志宏海燕晓峰嘉欣俊宇子涵"


@dataclass(frozen=True)
class Size:
    """How much of the province: everything by default; a test takes a corner of it."""

    cities: int | None = None  # the first N cities of guangdong.yaml (None: all 21)
    counties_per_city: int | None = None
    towns_per_county: int | None = None  # None: 8-18 each (about 1,600 in all)
    departments: int | None = None  # at most N departments per government


@dataclass
class Province:
    organisations: list[dict[str, Any]] = field(default_factory=list)
    # Each with `filed_with` (a bureau id); the loader numbers the receipts.
    appointments: list[dict[str, Any]] = field(default_factory=list)
    delegations: list[dict[str, Any]] = field(default_factory=list)
    datasets: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Existing:
    """A body already in the directory (the pilot's)."""

    id: str
    kind: str
    division_code: str
    government_id: str | None
    name: str


def load_divisions(path: Path = DIVISIONS_FILE) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


class _Builder:
    def __init__(
        self, divisions: dict[str, Any], existing: Iterable[Existing], seed: int, as_of: date
    ) -> None:
        self.divisions = divisions
        self.random = random.Random(seed)
        self.as_of = as_of
        self.province = Province()
        existing = list(existing)
        self.governments = {e.division_code: e.id for e in existing if e.kind == "government"}
        self.names = {(e.government_id, e.name) for e in existing}
        self.taken = {e.id for e in existing}
        self.has_bureau = {e.government_id for e in existing if e.kind == "data_bureau"}

    def body(self, **row: Any) -> str:
        row.setdefault("pilot", False)
        if row["id"] in self.taken or (row.get("government_id"), row["name"]) in self.names:
            return str(row["id"])
        self.taken.add(row["id"])
        self.province.organisations.append(row)
        return str(row["id"])

    def member(
        self, gov: str, code: str, level: str, slug: str, name: str, name_en: str,
        kind: str = "department",
    ) -> None:  # fmt: skip
        """A department or bureau of the government `gov`."""
        self.body(
            id=f"p{code}-{slug}", name=name, name_en=name_en, kind=kind, level=level,
            division_code=code, government_id=gov, parent_id=None,
        )  # fmt: skip

    def government(
        self, code: str, name: str, en: str, level: str, parent: str | None
    ) -> tuple[str, bool]:
        """The government of this division: (id, whether it was generated now)."""
        if code in self.governments:
            return self.governments[code], False
        gov_id = f"p{code}-gov"
        self.governments[code] = gov_id
        self.body(
            id=gov_id,
            name=name,
            name_en=en,
            kind="government",
            level=level,
            division_code=code,
            government_id=None,
            parent_id=parent,
        )
        return gov_id, True

    def person(self) -> str:
        given = "".join(self.random.choice(_GIVEN) for _ in range(self.random.choice((1, 2))))
        return self.random.choice(_SURNAMES) + given

    def working_day(self, start: date, end: date) -> date:
        day = start + timedelta(days=self.random.randrange(max(1, (end - start).days)))
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return day


def _at(day: date, hour: int = 0) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=CHINA).astimezone(UTC)


def generate(
    *,
    seed: int,
    as_of: date,
    size: Size | None = None,
    existing: Iterable[Existing] = (),
    divisions: dict[str, Any] | None = None,
) -> Province:
    """The province's rows, those of `existing` bodies left out."""
    size = size or Size()
    b = _Builder(divisions or load_divisions(), existing, seed, as_of)
    depts = b.divisions["departments"][: size.departments]
    gd, _ = b.government(
        PROVINCE_CODE,
        "广东省人民政府",
        "People's Government of Guangdong Province",
        "province",
        None,
    )
    _departments(b, gd, "广东省", "Guangdong Province", PROVINCE_CODE, "province", depts)
    for city in b.divisions["cities"][: size.cities]:
        code, name, en = str(city["code"]), city["name"], city["en"]
        gov, _ = b.government(code, f"{name}人民政府", f"People's Government of {en}", "city", gd)
        _departments(b, gov, name, en, code, "city", depts[:36])
        for county in city.get("counties", [])[: size.counties_per_city]:
            c_code, c_name, c_en = str(county[0]), county[1], county[2]
            cgov, _ = b.government(
                c_code,
                f"{name}{c_name}人民政府",
                f"People's Government of {c_en}, {en}",
                "county",
                gov,
            )
            _departments(b, cgov, f"{name}{c_name}", f"{c_en}, {en}", c_code, "county", depts[:30])
            towns = size.towns_per_county or b.random.randint(8, 18)
            _towns(b, cgov, f"{name}{c_name}", c_en, c_code, towns, district=c_name.endswith("区"))
        if "towns" in city:  # a city without districts: towns straight under it
            _towns(b, gov, name, en, code, size.towns_per_county or city["towns"], district=False)
    _appointments(b)
    return b.province


def _departments(
    b: _Builder,
    gov: str,
    place: str,
    place_en: str,
    code: str,
    level: str,
    kinds: list[list[str]],
) -> None:
    # The province and each city have a data bureau; counties and towns have none.
    if level != "county" and gov not in b.has_bureau:
        b.has_bureau.add(gov)
        name_en = f"{place_en} Government Service and Data Administration"
        b.member(gov, code, level, "dsb", f"{place}政务服务数据管理局", name_en, "data_bureau")
    for slug, province_name, local_name, en in kinds:
        name = f"{place}{province_name if level == 'province' else local_name}"
        b.member(gov, code, level, slug, name, f"{en}, {place_en}")


def _towns(
    b: _Builder, parent: str, place: str, place_en: str, code: str, count: int, *, district: bool
) -> None:
    offices = b.divisions["town_offices"]
    for n in range(1, count + 1):
        # Districts have subdistricts (街道, 001-099), counties and cities mostly towns (镇, 100-).
        street = district or n <= count // 4
        number = n if street else 100 + n
        t_code = f"{code}{number:03d}"
        label = f"第{n}街道办事处" if street else f"第{n}镇人民政府"
        kind_en = "Subdistrict" if street else "Town"
        tgov, made = b.government(
            t_code,
            f"{place}{label}",
            f"{kind_en} {n} of {place_en} (generated name and code)",
            "town",
            parent,
        )
        if not made:
            continue
        town = f"{place}{label.removesuffix('人民政府').removesuffix('办事处')}"
        for slug, name, en in offices:
            name_en = f"{en}, {kind_en} {n} of {place_en} (generated)"
            b.member(tgov, t_code, "town", slug, f"{town}{name}", name_en)


def _appointments(b: _Builder) -> None:
    """A CDO history for each new body that joined the scheme: appointments one after another,
    some with a gap (a vacancy), some ending with none after; delegations within some terms."""
    for org in b.province.organisations:
        if b.random.random() >= _CDO_SHARE[org["level"]]:
            continue
        start = b.working_day(_SCHEME_OPENS, min(date(2023, 6, 30), b.as_of))
        while start < b.as_of:
            term_days = b.random.randint(365, 4 * 365)
            end = start + timedelta(days=term_days)
            ends = end < b.as_of
            appointment = _appointment(b, org, start, end if ends else None)
            b.province.appointments.append(appointment)
            if b.random.random() < 0.1:
                _delegation(b, appointment, org, start, end if ends else b.as_of)
            if not ends:
                break
            roll = b.random.random()
            if roll < 0.1:
                break  # left vacant: the level's bureau acts for the body since
            start = end + timedelta(days=b.random.randint(15, 90)) if roll < 0.25 else end


def _appointment(b: _Builder, org: dict[str, Any], start: date, end: date | None) -> dict[str, Any]:
    government = org["kind"] == "government"
    title = {"province": "副省长", "city": "副市长", "county": "副区长", "town": "副镇长"}
    return {
        "organisation_id": org["id"],
        "person_name": b.person(),
        "title": title[org["level"]] if government else "副局长",
        "appointed_by": "数字政府改革建设工作领导小组" if government else f"{org['name']}党组",
        "starts_at": _at(start),
        "filed_at": _at(start + timedelta(days=b.random.randint(1, 3)), 9),
        "ends_at": _at(end) if end else None,
        "end_reason": "任期届满，职务调整" if end else None,
    }


def _delegation(
    b: _Builder, appointment: dict[str, Any], org: dict[str, Any], start: date, end: date
) -> None:
    if (end - start).days < 40:
        return
    first = start + timedelta(days=b.random.randint(5, (end - start).days - 35))
    b.province.delegations.append(
        {
            "appointment": appointment,
            "delegate_name": b.person(),
            "delegate_title": "副局长" if org["kind"] != "government" else "秘书长",
            "delegate_org_id": org["id"],
            "starts_at": _at(first),
            "ends_at": _at(first + timedelta(days=b.random.randint(5, 30))),
            "reason": "出差期间委托审批",
        }
    )
