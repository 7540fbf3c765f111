"""Reports API: the CDO evaluation, as JSON or as a CSV export. Needs `reports:read`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel

from broker.kit.deps import SessionDep
from broker.kit.languages import Language, preferred_language
from broker.oauth.principal import Principal, require_scope
from broker.oauth.scopes import Scope
from broker.reports import service
from broker.reports.schemas import CdoEvaluationReport, GroupBy
from core.models.directory import Level

router = APIRouter(prefix="/v1/reports", tags=["reports"])


def csv_language(request: Request) -> Language:
    """A CSV's header language: `?lang=en|zh`, else the caller's Accept-Language (Chinese by
    default)."""
    asked = request.query_params.get("lang")
    if asked in ("en", "zh"):
        return Language.en if asked == "en" else Language.zh
    return preferred_language(request.headers.get("accept-language"))


ReportReader = Annotated[Principal, Depends(require_scope(Scope.reports_read))]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
_EXPORT = (
    "\n\nRows are those of bodies in the caller's jurisdiction: a data bureau's own government "
    "and every government below it, with their departments and bureaus; any other body sees "
    "its own rows only."
    "\n\nAnswers CSV (UTF-8 with a BOM, a header row in Chinese unless `?lang=en` or "
    "`Accept-Language` prefers English, the same columns as `rows`) for "
    "`Accept: text/csv` or `?format=csv`; a text cell that starts with `=`, `+`, `-`, `@`, a "
    "tab or a carriage return is written with a `'` before it, so that no spreadsheet runs it "
    "as a formula. Needs the scope `reports:read`."
)
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}
FormatQuery = Annotated[
    Literal["json", "csv"] | None, Query(alias="format", description="default: by Accept")
]
WindowStart = Annotated[AwareDatetime, Query(alias="from", description="window start, inclusive")]
WindowEnd = Annotated[AwareDatetime, Query(alias="to", description="window end, exclusive")]


@router.get(
    "/cdo-evaluation",
    summary="CDO evaluation: each CDO's (or body's) decisions, times, breaches, escalations",
    description=(service.__doc__ or "").strip() + _EXPORT,
    response_model=CdoEvaluationReport,
    responses=CSV_RESPONSE,
)
async def cdo_evaluation(
    request: Request,
    session: SessionDep,
    reader: ReportReader,
    start: WindowStart,
    end: WindowEnd,
    level: Annotated[Level | None, Query(description="only bodies of this level")] = None,
    group_by: GroupBy = GroupBy.cdo,
    format_: FormatQuery = None,
) -> Response:
    report = await service.cdo_evaluation(
        session,
        start=start,
        end=end,
        level=level,
        group_by=group_by,
        reader=reader.organisation_id,
    )
    return export(
        request,
        format_,
        report,
        lambda: service.to_csv(report, csv_language(request)),
        f"cdo-evaluation-{start:%Y%m%d}-{end:%Y%m%d}-{group_by.value}.csv",
    )


def export(
    request: Request,
    format_: str | None,
    report: BaseModel | Mapping[str, object],
    csv_of: Callable[[], str],
    name: str,
) -> Response:
    """A report as JSON, or as a CSV attachment for `?format=csv` or `Accept: text/csv`. A
    report given as a mapping is already what its model would dump (the scorecard's rows)."""
    wants_csv = format_ == "csv" or (
        format_ is None and "text/csv" in request.headers.get("accept", "")
    )
    if not wants_csv:
        if isinstance(report, BaseModel):
            return JSONResponse(report.model_dump(mode="json", by_alias=True))
        return JSONResponse(report)
    return Response(
        csv_of(),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
