"""The fault run (bench/chaos) at smoke size: filings while Kafka, the notifiers, a broker,
PostgreSQL and Redis are killed or restarted, and nothing accepted is lost, duplicated or stuck,
and no 5xx but 503 with Retry-After is answered.

Minutes long and with its own stack (state dir .stack-chaos, ports 39092.., 55632, 56579), so
outside the default run: `pytest -m slow`. The full size is `bench/chaos` (bench/README.md).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

CHAOS = Path(__file__).resolve().parents[2] / "bench" / "chaos"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


async def test_a_smoke_fault_run_loses_nothing() -> None:
    process = await asyncio.create_subprocess_exec(
        str(CHAOS), "--requests", "300",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), timeout=1700)
    report = out.decode(errors="replace")
    assert process.returncode == 0, report[-6000:]
    assert "PASSED" in report
    for figure in ("lost", "duplicate grants", "requests stuck", "unexpected 5xx"):
        line = next(x for x in report.splitlines() if x.startswith(figure))
        assert line.split()[len(figure.split())] == "0", line
