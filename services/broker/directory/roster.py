"""The CDO roster (首席数据官名单) of a jurisdiction: each body, its CDO in office and the state of
that CDO's filing (备案), as a bureau checks the list it was sent (the plan wanted them by the end
of May 2021). Scoped as the Authority rules say: the caller names a body inside its own
jurisdiction (403 `outside-jurisdiction` otherwise) and sees only the bodies inside it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.directory import repository
from broker.directory.exceptions import OutsideJurisdiction
from broker.directory.filing import FilingState, filing_bureau, filing_state, roster_bodies
from broker.directory.jurisdiction import covers
from broker.directory.schemas import CdoRoster, CDOSummary, RosterEntry
from broker.kit.problems import OrganisationNotFound


async def cdo_roster(
    session: AsyncSession,
    subject_id: str,
    *,
    caller_id: str,
    now: datetime,
    pilot: bool | None = None,
    state: FilingState | None = None,
) -> CdoRoster:
    view = await repository.current_view(session, now)
    if subject_id not in view.organisations:
        raise OrganisationNotFound(subject_id)
    if not covers(view, caller_id, subject_id):
        raise OutsideJurisdiction(caller_id, subject_id, "organisation_id")
    ids = [b for b in roster_bodies(view, subject_id) if covers(view, caller_id, b)]
    bodies = await repository.organisations_by_id(session, ids)
    cdos = await repository.active_appointments(session, ids, now)
    entries = []
    for body_id in ids:
        body, cdo = bodies[body_id], cdos.get(body_id)
        expected = filing_bureau(view, body_id)
        entry_state = filing_state(
            filed_with_id=cdo.filed_with_id if cdo else None, expected_id=expected
        )
        if (pilot is not None and body.pilot != pilot) or state not in (None, entry_state):
            continue
        entries.append(
            RosterEntry(
                organisation_id=body.id,
                organisation_name=body.name,
                kind=body.kind,  # type: ignore[arg-type]
                level=body.level,  # type: ignore[arg-type]
                pilot=body.pilot,
                filing_state=entry_state,
                expected_filed_with_id=expected,
                cdo=CDOSummary.model_validate(cdo) if cdo else None,
                filed_with_id=cdo.filed_with_id if cdo else None,
                filing_receipt=cdo.filing_receipt if cdo else None,
                filed_at=cdo.filed_at if cdo else None,
            )
        )
    counts = Counter(entry.filing_state for entry in entries)
    return CdoRoster(
        organisation_id=subject_id,
        as_of=now,
        counts={s: counts.get(s, 0) for s in FilingState},
        entries=entries,
    )
