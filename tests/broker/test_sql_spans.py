"""A statement's span is named as OpenTelemetry's SQLAlchemy instrumentation names it, though the
instrumentation is handed only the statement's head (core/sql_spans.py)."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import get_meter
from sqlalchemy import create_engine

from core.sql_spans import SqlSpans

LONG_SELECT = "SELECT " + ", ".join(f"requests.c{i}" for i in range(300)) + " FROM requests"
STATEMENTS = [
    LONG_SELECT,
    "INSERT INTO requests (id) VALUES ($1::VARCHAR)",
    "WITH chained AS (SELECT 1) UPDATE audit_chains SET head = $1",
    "  \n\tBEGIN",
    "/* traceparent='00-ab' */ SELECT 1",
    "/* a */SELECT 1",
    "/* a */ /* b */ SELECT 1",
    "/*a*/ /*b*/ SELECT 1",
    " /* not leading */ SELECT 1",
    "/* only a comment */",
    "/* spans\n lines */ SELECT 1",
    "   ",
    "",
    "SELECT",
    "select\u00a0x from y",
    "\x1cSELECT\x1c1",
]


@pytest.mark.parametrize("db_name", ["cdo_broker", None, ""])
def test_statements_are_named_as_the_instrumentation_names_them(db_name: str | None) -> None:
    tracer = trace.NoOpTracer()
    usage = get_meter("test").create_up_down_counter("usage")
    theirs = EngineTracer(tracer, create_engine("sqlite://"), usage)  # type: ignore[no-untyped-call]
    ours = SqlSpans(tracer, create_engine("sqlite://"), usage)  # type: ignore[no-untyped-call]
    for statement in STATEMENTS:
        expected = theirs._operation_name(db_name, statement)  # type: ignore[no-untyped-call]
        assert ours._operation_name(db_name, statement) == expected, repr(statement)
