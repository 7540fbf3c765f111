"""`cdo-broker seed-province`: the pilot, then the rest of the province (seed/province.py) written
in bulk: about 10,000 bodies in a few statements per table instead of one round trip per row.

Idempotent as `seed-pilot` is: bodies present are kept, so a second run adds nothing. Each
appointment is filed with the bureau `directory/filing.py` names and numbered per bureau and
year after the receipts that bureau already gave, as `give_receipt` numbers one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from broker.calendar.deadlines import china_day
from broker.directory.filing import filing_bureau, receipt_number
from broker.directory.repository import current_view
from broker.routing.model import DirectoryView
from broker.seed import repository
from broker.seed.pilot import SeedReport, load_pilot, seed_pilot
from broker.seed.province import Existing, Province, Size, generate
from broker.seed.province_catalog import catalog
from core.clock import utcnow
from core.models.catalog import Dataset
from core.models.directory import Appointment, Delegation, Organisation


@dataclass(frozen=True)
class ProvinceReport:
    pilot: SeedReport
    organisations: int  # generated bodies written (the pilot's are in `pilot`)
    appointments: int
    delegations: int
    datasets: int

    def as_dict(self) -> dict[str, Any]:
        created = {k: v for k, v in vars(self).items() if k != "pilot"}
        return {"pilot": self.pilot.as_dict(), "province": {"created": created}}


async def seed_province(
    session: AsyncSession, *, seed: int, as_of: date, size: Size | None = None
) -> ProvinceReport:
    pilot = await seed_pilot(session, load_pilot())
    existing = [
        Existing(id, kind, code, government_id, name)
        for id, kind, code, government_id, name in await repository.organisations_present(session)
    ]
    province = generate(seed=seed, as_of=as_of, size=size or Size(), existing=existing)
    datasets = catalog(province, seed, await repository.dataset_ids(session))
    await repository.insert_in_bulk(session, Organisation, province.organisations)
    view = await current_view(session, utcnow())  # has_active_cdo: not what filing asks
    appointments = await _filed(session, province, view)
    await repository.insert_in_bulk(session, Appointment, appointments)
    await repository.insert_in_bulk(session, Delegation, _delegations(province))
    await repository.insert_in_bulk(session, Dataset, datasets)
    return ProvinceReport(
        pilot,
        organisations=len(province.organisations),
        appointments=len(appointments),
        delegations=len(province.delegations),
        datasets=len(datasets),
    )


async def _filed(
    session: AsyncSession, province: Province, view: DirectoryView
) -> list[dict[str, Any]]:
    """The appointments with ids, bureaus and receipts, numbered in the order filed."""
    division = await repository.division_codes(session)
    last = defaultdict(int, await repository.last_filing_sequences(session))
    terms: dict[str, int] = defaultdict(int)
    rows = []
    for appointment in sorted(
        province.appointments, key=lambda a: (a["filed_at"], a["organisation_id"])
    ):
        org_id = appointment["organisation_id"]
        found = filing_bureau(view, org_id)
        assert found is not None, f"{org_id}: no bureau to file with"
        bureau = found
        year = china_day(appointment["filed_at"]).year
        last[(bureau, year)] += 1
        terms[org_id] += 1
        appointment["id"] = f"apt-{org_id}-{terms[org_id]}"
        rows.append(
            {
                **appointment,
                "filed_with_id": bureau,
                "filing_year": year,
                "filing_sequence": last[(bureau, year)],
                "filing_receipt": receipt_number(division[bureau], year, last[(bureau, year)]),
            }
        )
    return rows


def _delegations(province: Province) -> list[dict[str, Any]]:
    rows = []
    for n, delegation in enumerate(province.delegations, 1):
        row = {k: v for k, v in delegation.items() if k != "appointment"}
        row["id"] = f"dlg-p{n:06d}"
        row["appointment_id"] = delegation["appointment"]["id"]
        rows.append(row)
    return rows
