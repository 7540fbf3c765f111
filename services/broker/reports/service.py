"""CDO evaluation (评价): what each CDO, and each body, did with the requests routed to it.

Definitions (this text is also the endpoint's OpenAPI description). The window is [from, to)
and applies to when each thing happened:

- requests_routed: requests in which the body became an approver in the window (an approver
  row added: planned at filing or at a step's start, or escalated to);
- decided / approved / rejected: decisions made in the window; decided_by_delegate: those of
  them a delegate made on the CDO's behalf (they count for the CDO too);
- decision_seconds_median / _p90: nearest-rank percentiles of those decisions' SLA-clock
  seconds (`Decision.clock_seconds`: from the step's start to the decision, holds for
  clarification excluded); null without decisions;
- decision_working_seconds_median / _p90: the same in working time (`Decision.working_seconds`:
  office hours of working days, 09:00-18:00 China Standard Time, holds excluded; see
  broker/calendar/deadlines.py), the measure a CDO is held to, since a request filed on a Friday
  evening and decided on Monday morning took no working time; decisions recorded before working
  time was counted are left out; null without such decisions;
- sla_breaches: steps the body let lapse in the window (counted once per step);
  escalations_caused: escalations recorded against the body in the window (a step whose
  lapse found nobody further up can lapse at the same body again);
- escalations_received: escalations in the window whose target is the body;
- clarifications_asked: clarifications the body asked in the window;
- grants_revoked_after_approval: grants revoked in the window among whose decisions is an
  approval by the body (per CDO: by that CDO);
- problems_filed: problem reports (问题反映) the body filed in the window; problems_naming:
  reports filed in the window that name the body among those concerned;
- problems_answered: reports the body (the provincial data bureau) answered in the window;
  problem_answer_seconds_median: the nearest-rank median of their seconds from filing to
  answer; null without answers;
- appeals_received: appeals (申请协调) that came to the body to coordinate in the window (filed
  with it, or escalated to it); appeals_upheld / appeals_overturned: those it decided in the
  window, per CDO for the appointment under which it decided.

Per CDO, a decision counts for the appointment recorded on it (a delegate's decision for the
delegating CDO), an escalation caused for the appointment recorded on it, everything else for
the body's appointment active at that moment; activity while a body had no CDO has a row with
no appointment, so the per-CDO rows of a body add up to its per-body row (except the
percentiles, taken over the body's decisions as a whole, and the rare request or step that is
counted once per CDO when a change of CDO falls inside it). Every appointment that ran during the
window has a row, idle or not. Counts and the decision percentiles are SQL aggregates
(PostgreSQL's `percentile_disc` is the nearest rank), so the report's cost follows the number of
CDOs, not the years of requests behind it; the median of problem answers, which are few, is
taken in Python.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.directory.jurisdiction import covers
from broker.directory.repository import current_view
from broker.kit.languages import Language
from broker.kit.problems import Problem
from broker.reports.repository import measures, roster
from broker.reports.repository.measures import (
    AppealCounts,
    DecisionCounts,
    EscalationCounts,
    Key,
    Percentiles,
    ReportFilter,
)
from broker.reports.repository.roster import Body, Cdo
from broker.reports.schemas import (
    CSV_COLUMNS,
    CSV_HEADERS_ZH,
    CdoEvaluationReport,
    CdoEvaluationRow,
    GroupBy,
)
from core.models.directory import Level


class InvalidWindow(Problem):
    status = 422
    slug = "invalid-window"
    title = "Invalid report window"
    title_zh = "统计区间无效"


def nearest_rank(values: Sequence[int], percent: float) -> int | None:
    """The nearest-rank percentile: the smallest value with at least `percent` % of the values
    at or below it (always one of the values). None for no values."""
    if not values:
        return None
    if not 0 < percent <= 100:
        raise ValueError("percent must be in (0, 100]")
    ordered = sorted(values)
    return ordered[math.ceil(percent / 100 * len(ordered)) - 1]


async def cdo_evaluation(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    level: Level | None,
    group_by: GroupBy,
    reader: str | None = None,
) -> CdoEvaluationReport:
    """`reader`: the calling organisation, whose jurisdiction bounds the rows (a data bureau's
    own government and those below with their bodies; any other body: itself alone). None:
    every row (the broker's own use)."""
    if end <= start:
        raise InvalidWindow(
            "to: must be after from", detail_zh="to: 须晚于 from（统计区间为空）", field="to"
        )
    f = ReportFilter(start=start, end=end, level=level, per_cdo=group_by is GroupBy.cdo)
    routed = await measures.routed(session, f)
    decisions, percentiles = await _decisions(session, f)
    caused = await measures.escalations_caused(session, f)
    received = await measures.escalations_received(session, f)
    asked = await measures.clarifications_asked(session, f)
    revoked = await measures.grants_revoked(session, f)
    filed = await measures.problems_filed(session, f)
    naming = await measures.problems_naming(session, f)
    answers = await measures.problem_answer_seconds(session, f)
    appealed = await measures.appeals(session, f)

    keys: set[Key] = set().union(
        routed, decisions, caused, received, asked, revoked, filed, naming, answers, appealed
    )
    cdos: dict[str, Cdo] = {}
    for appointment in await roster.appointments_during(session, f):
        keys.add((appointment.organisation_id, appointment.id if f.per_cdo else None))
        cdos[appointment.id] = appointment
    if reader is not None:
        view = await current_view(session, end)
        keys = {key for key in keys if covers(view, reader, key[0])}
    orgs = await roster.organisations(session, {org_id for org_id, _ in keys})
    # Appointments a row names that did not run in the window (none, unless rows disagree).
    cdos |= await roster.appointments(
        session, {a for _, a in keys if a is not None and a not in cdos}
    )

    no_decisions = DecisionCounts(0, 0, 0, 0)
    no_escalations = EscalationCounts(0, 0)
    no_appeals = AppealCounts(0, 0, 0)
    rows = []
    for key in keys:
        org_id, appointment_id = key
        counts = decisions.get(key, no_decisions)
        lapses = caused.get(key, no_escalations)
        median, p90, working_median, working_p90 = percentiles.get(key, (None,) * 4)
        rows.append(
            _row(
                orgs[org_id],
                cdos[appointment_id] if appointment_id is not None else None,
                requests_routed=routed.get(key, 0),
                decided=counts.decided,
                decided_by_delegate=counts.by_delegate,
                approved=counts.approved,
                rejected=counts.rejected,
                decision_seconds_median=median,
                decision_seconds_p90=p90,
                decision_working_seconds_median=working_median,
                decision_working_seconds_p90=working_p90,
                sla_breaches=lapses.breaches,
                escalations_caused=lapses.escalations,
                escalations_received=received.get(key, 0),
                clarifications_asked=asked.get(key, 0),
                grants_revoked_after_approval=revoked.get(key, 0),
                problems_filed=filed.get(key, 0),
                problems_naming=naming.get(key, 0),
                problems_answered=len(answers.get(key, [])),
                problem_answer_seconds_median=nearest_rank(answers.get(key, []), 50),
                appeals_received=appealed.get(key, no_appeals).received,
                appeals_upheld=appealed.get(key, no_appeals).upheld,
                appeals_overturned=appealed.get(key, no_appeals).overturned,
            )
        )
    rows.sort(
        key=lambda r: (
            r.organisation_id,
            r.person_name is None,  # a body's activity without a CDO comes after its CDOs
            r.person_name or "",
            r.appointment_id or "",  # time-ordered ids: successive CDOs of one name in order
        )
    )
    return CdoEvaluationReport.model_validate(
        {"from": start, "to": end, "level": level, "group_by": group_by, "rows": rows}
    )


async def _decisions(
    session: AsyncSession, f: ReportFilter
) -> tuple[dict[Key, DecisionCounts], dict[Key, Percentiles]]:
    """Each key's decisions and their time's percentiles: both in one statement on PostgreSQL;
    on SQLite the percentiles are taken here, in Python."""
    if session.get_bind().dialect.name == "postgresql":
        return await measures.decisions_with_percentiles(session, f)
    return await measures.decisions(session, f), {
        key: (
            nearest_rank(clock.elapsed, 50),
            nearest_rank(clock.elapsed, 90),
            nearest_rank(clock.working, 50),
            nearest_rank(clock.working, 90),
        )
        for key, clock in (await measures.decision_clocks(session, f)).items()
    }


def _row(org: Body, cdo: Cdo | None, **measures: int | None) -> CdoEvaluationRow:
    return CdoEvaluationRow.model_validate(
        {
            "organisation_id": org.id,
            "organisation_name": org.name,
            "level": org.level,
            "appointment_id": cdo.id if cdo else None,
            "person_name": cdo.person_name if cdo else None,
            "title": cdo.title if cdo else None,
            **measures,
        }
    )


# OWASP "CSV injection": a spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, led by `'` so it shows as text.
    Names and titles come from callers (an appointment's `person_name`), so they are data."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(report: CdoEvaluationReport, language: Language = Language.zh) -> str:
    """The rows as CSV with a header row (Chinese by default, the column names in English),
    led by a UTF-8 BOM so that Excel reads the Chinese; no cell is a formula."""
    headers = [CSV_HEADERS_ZH[c] for c in CSV_COLUMNS] if language is Language.zh else CSV_COLUMNS
    return csv_text(headers, (row.model_dump(mode="json") for row in report.rows), CSV_COLUMNS)


def csv_text(
    headers: Sequence[str], rows: Iterable[Mapping[str, object]], columns: Sequence[str]
) -> str:
    """CSV with a UTF-8 BOM and a header row; `None` as an empty cell; no cell a formula
    (`spreadsheet_safe`). Shared by every report the bureaus export."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for values in rows:
        writer.writerow("" if values[c] is None else spreadsheet_safe(values[c]) for c in columns)
    return out.getvalue()
