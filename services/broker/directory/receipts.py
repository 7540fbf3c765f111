"""Filing (备案) as an appointment is written: the bureau it is filed with, checked against the
rules (directory/filing.py), and the receipt that bureau gives. Used by `service.appoint` and by
the pilot seed, so a seeded appointment is numbered as an API one is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.calendar.deadlines import china_day
from broker.directory import repository
from broker.directory.exceptions import InvalidDirectoryChange, WrongFilingBureau
from broker.directory.filing import filing_bureau, receipt_number
from broker.directory.schemas import AppointmentIn
from core.models.directory import Appointment, Organisation


async def filing_bureau_of(
    session: AsyncSession, data: AppointmentIn, now: datetime
) -> Organisation:
    """The bureau the rules name for the body (directory/filing.py); `filed_with_id`, when
    given, must be that one: 422 `wrong-filing-bureau` naming the field otherwise."""
    expected_id = filing_bureau(await repository.current_view(session, now), data.organisation_id)
    bureau = await session.get(Organisation, expected_id) if expected_id else None
    if bureau is None:
        raise InvalidDirectoryChange(
            f"filed_with_id: no data bureau above '{data.organisation_id}' to file with",
            detail_zh=f"filed_with_id: “{data.organisation_id}”之上没有可以备案的"
            "政务服务数据管理局",
            field="filed_with_id",
        )
    if data.filed_with_id is not None and data.filed_with_id != bureau.id:
        raise WrongFilingBureau(
            f"filed_with_id: the CDO of '{data.organisation_id}' is filed with '{bureau.id}' "
            f"({bureau.name_en}), not '{data.filed_with_id}'",
            detail_zh=f"filed_with_id: '{data.organisation_id}' 的首席数据官应报"
            f" '{bureau.id}'（{bureau.name}）备案，而非 '{data.filed_with_id}'",
            field="filed_with_id",
            expected_filed_with_id=bureau.id,
            errors=[
                {
                    "field": "filed_with_id",
                    "in": "body",
                    "message": f"the CDO of '{data.organisation_id}' is filed with '{bureau.id}'",
                }
            ],
        )
    return bureau


async def give_receipt(
    session: AsyncSession, appointment: Appointment, bureau: Organisation, *, filed_at: datetime
) -> None:
    """The filing: the bureau's next receipt number (备案号) for the year `filed_at` falls in, in
    China Standard Time. Takes the bureau's row lock, after the body's (`appoint`'s order)."""
    await repository.lock_organisation(session, bureau.id)
    year = china_day(filed_at).year
    sequence = await repository.next_filing_sequence(session, bureau.id, year)
    appointment.filed_at = filed_at
    appointment.filing_year = year
    appointment.filing_sequence = sequence
    appointment.filing_receipt = receipt_number(bureau.division_code, year, sequence)
