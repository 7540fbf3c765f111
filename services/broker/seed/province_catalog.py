"""The province's catalog for `cdo-broker seed-province`: datasets of the generated departments,
graded and described as the catalog describes a dataset (grade, personal fields, resource code,
sharing method, update cycle, open attribute). Pure and deterministic, as seed/province.py is;
every entry is generated (guangdong.yaml's `datasets` are the templates)."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from broker.seed.province import Province, load_divisions

# Shares of the Data Security Law's grades (一般/重要/核心) among a department's datasets.
_GRADES = (("general", 0.85), ("important", 0.12), ("core", 0.03))
_CONDITIONS = "限于申请单位依法履行职责所需，按最小必要原则使用，不得向第三方提供或用于其他用途。"


def catalog(
    province: Province, seed: int, existing_ids: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Datasets of the new departments: nearly half publish one or two."""
    rng = random.Random(seed + 1)
    divisions = load_divisions()
    templates, personal = divisions["datasets"], set(divisions["personal_fields"])
    taken = set(existing_ids)
    rows = []
    for org in province.organisations:
        if org["kind"] != "department" or rng.random() >= 0.45:
            continue
        for n, (slug, name, en, *fields) in enumerate(rng.sample(templates, rng.randint(1, 2)), 1):
            dataset_id = f"{org['id']}-{slug}"
            if dataset_id in taken:
                continue
            rows.append(_entry(rng, org, n, dataset_id, name, en, fields, personal))
    return rows


def _entry(
    rng: random.Random,
    org: dict[str, Any],
    n: int,
    dataset_id: str,
    name: str,
    en: str,
    fields: list[list[str]],
    personal: set[str],
) -> dict[str, Any]:
    roll = rng.random()
    shared = "unconditional" if roll < 0.35 else "conditional" if roll < 0.92 else "not_shareable"
    opened = (
        "not_open"
        if shared == "not_shareable" or any(f in personal for f, _ in fields)
        else rng.choice(("unconditional", "conditional"))
    )
    return {
        "id": dataset_id,
        "name": f"{org['name']}{name}",
        "name_en": f"{org['name_en']}: {en}",
        "description": None,
        "owner_id": org["id"],
        "sharing_class": shared,
        "fields": [{"name": f, "label": label, "personal": f in personal} for f, label in fields],
        "grade": _grade(rng),
        "resource_code": _resource_code(org, n),
        "sharing_conditions": _CONDITIONS if shared == "conditional" else None,
        "sharing_method": rng.choice(("api", "api", "api", "table", "file")),
        "update_cycle": rng.choice(("daily", "daily", "real_time", "monthly")),
        "open_attribute": opened,
        "status": "published",
    }


def _grade(rng: random.Random) -> str:
    roll = rng.random()
    for grade, share in _GRADES:
        if roll < share:
            return grade
        roll -= share
    return "general"


def _resource_code(org: dict[str, Any], n: int) -> str:
    """As the pilot's (440000-GAT-0001): the owner's division, its short name, a number."""
    short = org["id"].rsplit("-", 1)[-1].upper()
    return f"{org['division_code']}-{short}-{n:04d}"
