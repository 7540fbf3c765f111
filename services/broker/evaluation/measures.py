"""What each computed indicator measures, from a CDO's row of the evaluation report and the
counts of the kinds of request it decided (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from broker.calendar.deadlines import OFFICE_DAY_SECONDS
from broker.reports.schemas import CdoEvaluationRow


@dataclass(frozen=True)
class KindCounts:
    """Decisions on demands and IT projects, and vetoes, by one CDO (or body) in the window."""

    demands: int = 0
    it_projects: int = 0
    vetoes: int = 0


def measures(row: CdoEvaluationRow, kinds: KindCounts) -> dict[str, float | None]:
    """Every measure an indicator may name (indicators.schema.json's `measure` enum); None
    where the window has nothing to measure (no step to be on time for, no decision to time)."""
    steps = row.decided + row.sla_breaches
    median = row.decision_working_seconds_median
    return {
        "on_time_rate": round(1 - row.sla_breaches / steps, 4) if steps else None,
        "decision_working_days_median": round(median / OFFICE_DAY_SECONDS, 2)
        if median is not None
        else None,
        "escalations_caused": row.escalations_caused,
        "sla_breaches": row.sla_breaches,
        "demands_coordinated": kinds.demands,
        "it_projects_reviewed": kinds.it_projects,
        "vetoes": kinds.vetoes,
        "decided": row.decided,
    }
