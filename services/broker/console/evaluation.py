"""履职评价 for the data bureau: the CDO evaluation of `GET /v1/reports/cdo-evaluation` over the
bodies of its jurisdiction, as charts (Apache ECharts, served by the broker from its npm
package's dist file: static/echarts-*.min.js, drawn by static/evaluation.js from this page's own
JSON, as the page's CSP allows no inline script) and as a table, with the same rows as a CSV
download. The window is given as dates in China Standard Time, the end day included."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, model_validator

from broker.console.bureau import Bureau, BureauDep
from broker.console.dates import CHINA, end_of_day, start_of_day
from broker.console.texts import text
from broker.console.web import language, render
from broker.kit.deps import SessionDep
from broker.kit.languages import Language
from broker.reports import service as reports
from broker.reports.endpoints import CSV_MEDIA_TYPE
from broker.reports.schemas import CdoEvaluationReport, GroupBy
from core.clock import utcnow

router = APIRouter()

# What the charts show, in the order of their legends (CdoEvaluationRow's measures).
CHARTED = ("approved", "rejected", "sla_breaches", "escalations_caused")


class Window(BaseModel):
    """The form's query: `from` and `to` as days (default: this year until today), per CDO or
    per body; an end before the start is the start's day."""

    start: date
    end: date
    group_by: GroupBy = GroupBy.cdo

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end < self.start:
            self.end = self.start
        return self

    @property
    def query(self) -> str:
        return f"from={self.start}&to={self.end}&group_by={self.group_by.value}"


async def _report(session: SessionDep, bureau: Bureau, w: Window) -> CdoEvaluationReport:
    """The API's report, bounded as it bounds it for the bureau's own clients (`reader`)."""
    return await reports.cdo_evaluation(
        session, start=start_of_day(w.start), end=end_of_day(w.end), level=None,
        group_by=w.group_by, reader=bureau.me.person.organisation_id,
    )  # fmt: skip


def _window_of(request: Request) -> Window:
    """A date or grouping the form cannot have sent (an edited address) falls back to the
    default rather than failing the page."""
    params = request.query_params
    today = utcnow().astimezone(CHINA).date()
    start, end, group_by = today.replace(month=1, day=1), today, GroupBy.cdo
    try:
        start = date.fromisoformat(params["from"]) if params.get("from") else start
        end = date.fromisoformat(params["to"]) if params.get("to") else end
        group_by = GroupBy(params["group_by"]) if params.get("group_by") else group_by
    except ValueError:
        pass
    return Window(start=start, end=end, group_by=group_by)


WindowDep = Annotated[Window, Depends(_window_of)]


@router.get("/bureau/evaluation")
async def evaluation_page(
    request: Request, session: SessionDep, bureau: BureauDep, w: WindowDep
) -> HTMLResponse:
    return render(
        request,
        "evaluation.html",
        me=bureau.me,
        w=w,
        report=await _report(session, bureau, w),
        hours=_hours,
    )


@router.get("/bureau/evaluation.json")
async def evaluation_data(
    request: Request, session: SessionDep, bureau: BureauDep, w: WindowDep
) -> JSONResponse:
    """The charts' data: each row's label and measures, and the legend in the reader's words."""
    lang = language(request)
    report = await _report(session, bureau, w)
    rows: list[dict[str, Any]] = [
        {
            "label": " · ".join(filter(None, (r.organisation_name, r.person_name))),
            "decision_hours_median": _hours(r.decision_seconds_median),
            **{m: getattr(r, m) for m in CHARTED},
        }
        for r in report.rows
    ]
    legend = {m: text(f"ev_{m}", lang) for m in (*CHARTED, "decision_hours_median")}
    return JSONResponse({"legend": legend, "rows": rows}, headers={"Cache-Control": "no-store"})


@router.get("/bureau/evaluation.csv")
async def evaluation_csv(
    request: Request, session: SessionDep, bureau: BureauDep, w: WindowDep
) -> Response:
    """Headed in the reader's language (Chinese unless the console is in English)."""
    report = await _report(session, bureau, w)
    name = f"cdo-evaluation-{w.start:%Y%m%d}-{w.end:%Y%m%d}-{w.group_by.value}.csv"
    headers_in = Language.en if language(request) == "en" else Language.zh
    return Response(
        reports.to_csv(report, headers_in),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)
