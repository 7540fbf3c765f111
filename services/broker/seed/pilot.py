"""`cdo-broker seed-pilot`: load the pilot directory and catalog from `pilot.yaml`.

Idempotent: rows already present are left as they are, so a second run changes nothing, and an
operator's later edits (a new CDO, a reclassified dataset) are never overwritten by a reseed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from broker.calendar.deadlines import OFFICE_OPENS
from broker.directory.receipts import give_receipt
from broker.oauth.clients import create_client
from broker.oauth.scopes import demo_scopes_for
from broker.seed import repository
from core.ids import new_id
from core.models.catalog import Dataset
from core.models.directory import Appointment, Organisation

PILOT_FILE = Path(__file__).with_name("pilot.yaml")
CHINA = ZoneInfo("Asia/Shanghai")

_ORG_COLUMNS = (
    "id",
    "name",
    "name_en",
    "kind",
    "level",
    "division_code",
    "government_id",
    "parent_id",
    "pilot",
)
_DATASET_COLUMNS = (
    "id",
    "name",
    "name_en",
    "description",
    "owner_id",
    "sharing_class",
    "fields",
    "grade",
    "resource_code",
    "sharing_conditions",
    "sharing_method",
    "update_cycle",
    "open_attribute",
)


@dataclass
class SeedReport:
    organisations: int = 0
    appointments: int = 0
    datasets: int = 0
    clients: int = 0
    people: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": {
                "organisations": self.organisations,
                "appointments": self.appointments,
                "datasets": self.datasets,
                "clients": self.clients,
                "people": self.people,
            },
            "already_present": self.skipped,
        }


def load_pilot(path: Path = PILOT_FILE) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CHINA)


def _office_opens(day: date) -> datetime:
    return datetime.combine(day, OFFICE_OPENS, tzinfo=CHINA)


async def seed_pilot(session: AsyncSession, data: dict[str, Any]) -> SeedReport:
    report = SeedReport()
    existing_orgs = await repository.organisation_ids(session)
    with_history = await repository.organisations_with_appointments(session)
    for entry in data["organisations"]:
        if entry["id"] in existing_orgs:
            report.skipped["organisations"] = report.skipped.get("organisations", 0) + 1
        else:
            session.add(Organisation(**{c: entry.get(c) for c in _ORG_COLUMNS}))
            report.organisations += 1
            await session.flush()  # parents first: a child's foreign key needs its parent row
    # Appointments after every body exists: a CDO is filed with a bureau listed after its body.
    # Receipts are numbered per bureau in the order filed (file order within a day).
    new = [
        (entry["cdo"]["filed_on"], n, entry)
        for n, entry in enumerate(data["organisations"])
        if entry.get("cdo") and entry["id"] not in with_history
    ]
    for filed_on, _, entry in sorted(new, key=lambda item: item[:2]):
        cdo = entry["cdo"]
        appointment = Appointment(
            id=new_id("apt"),
            organisation_id=entry["id"],
            person_name=cdo["person_name"],
            title=cdo["title"],
            appointed_by=cdo["appointed_by"],
            filed_with_id=cdo["filed_with"],
            starts_at=_start_of_day(cdo["starts_on"]),
            ends_at=None,
        )
        bureau = await session.get(Organisation, cdo["filed_with"])
        assert bureau is not None, f"{entry['id']}: no bureau {cdo['filed_with']}"
        await give_receipt(session, appointment, bureau, filed_at=_office_opens(filed_on))
        session.add(appointment)
        await session.flush()  # the next receipt of this bureau counts this one
        report.appointments += 1
    existing_datasets = await repository.dataset_ids(session)
    for entry in data["datasets"]:
        if entry["id"] in existing_datasets:
            report.skipped["datasets"] = report.skipped.get("datasets", 0) + 1
            continue
        session.add(Dataset(**{c: entry[c] for c in _DATASET_COLUMNS if c in entry}))
        report.datasets += 1
    await session.flush()
    return report


async def ensure_demo_clients(
    session: AsyncSession,
    data: dict[str, Any],
    known: dict[str, dict[str, str]],
    report: SeedReport,
) -> dict[str, dict[str, str]]:
    """One demo client per seeded body. A `known` client (from the file an earlier run wrote)
    that still exists is kept, since its secret is only in that file: reruns neither duplicate
    nor rotate."""
    live = await repository.live_client_ids(session)
    result: dict[str, dict[str, str]] = {}
    for entry in data["organisations"]:
        org_id = entry["id"]
        previous = known.get(org_id)
        if previous and previous.get("client_id") in live:
            result[org_id] = previous
            report.skipped["clients"] = report.skipped.get("clients", 0) + 1
            continue
        scope = demo_scopes_for(entry["kind"], has_cdo=bool(entry.get("cdo")))
        client, secret = await create_client(
            session, organisation_id=org_id, scope=scope, name=f"{entry['name']} demo system"
        )
        result[org_id] = {"client_id": client.id, "client_secret": secret, "scope": client.scope}
        report.clients += 1
    return result


def read_secrets_file(path: Path) -> dict[str, Any]:
    """A demo file an earlier run wrote (clients or people), or nothing."""
    if not path.exists():
        return {}
    found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return found


def write_secrets_file(path: Path, content: dict[str, Any]) -> None:
    """Readable by its owner only: it holds secrets and passwords."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n")
