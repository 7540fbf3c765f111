"""The bodies and the dataset a filing reads, as plain rows: filing reads them as Core columns
(`filing/repository.context`), not ORM entities, whose construction, identity map and loading
were a tenth of a filing's CPU; it only reads them."""

from __future__ import annotations

from typing import Any, NamedTuple


class OrganisationRow(NamedTuple):
    """What filing needs of a body: who it is, its kind, level and division."""

    id: str
    name: str
    name_en: str
    kind: str
    level: str
    division_code: str


class DatasetRow(NamedTuple):
    """What filing needs of a catalog entry: what it validates against, and the catalog
    attributes an approval task repeats (`publish._task_dataset`)."""

    id: str
    name: str
    owner_id: str
    sharing_class: str
    status: str
    fields: list[dict[str, Any]]
    grade: str
    resource_code: str | None
    sharing_conditions: str | None
    sharing_method: str | None
    update_cycle: str | None
    open_attribute: str | None
