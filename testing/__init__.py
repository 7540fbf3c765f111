"""What the tests and the benches share: clients and tokens, waiting on a condition, processes
and ports, the local stack, workloads, reading Kafka and Prometheus text.

Nothing here is a test or a fixture: conftest files declare the fixtures, built from these.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
