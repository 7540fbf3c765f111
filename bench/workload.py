"""What the benches file: cross-level requests for conditional provincial datasets.

Each is routed in two steps (the requesting city's government CDO, then the provider
department's CDO), so every filing plans a real route, writes its steps and approvers and three
outbox events (`submitted`, `routed`, and one approval task), and its first webhook goes to the
CDO of the requester's government.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import zip_longest
from typing import Any

from broker.seed.pilot import load_pilot

DATASET = "gd-gat-population-basic"
FIELDS = ["id_number", "name", "household_address"]


def requesters(count: int) -> list[str]:
    """Pilot city departments, each in a city whose government has a CDO."""
    organisations = load_pilot()["organisations"]
    governments_with_cdo = {
        o["id"] for o in organisations if o["kind"] == "government" and o.get("cdo")
    }
    found = [
        o["id"]
        for o in organisations
        if o["kind"] == "department"
        and o["level"] == "city"
        and o.get("pilot")
        and o.get("cdo")
        and o["government_id"] in governments_with_cdo
    ]
    if len(found) < count:
        raise SystemExit(f"bench: only {len(found)} pilot city departments in the seed")
    # One city after another, so that the approval tasks spread over many CDOs.
    government = {o["id"]: o["government_id"] for o in organisations}
    by_city: dict[str, list[str]] = {}
    for org in found:
        by_city.setdefault(government[org], []).append(org)
    spread = [org for rank in zip_longest(*by_city.values()) for org in rank if org is not None]
    return spread[:count]


def first_approver_of(requester: str) -> str:
    """The body whose CDO gets the first approval task for this requester's filings."""
    by_id = {o["id"]: o for o in load_pilot()["organisations"]}
    return str(by_id[requester]["government_id"])


def body(purpose: str, now: datetime | None = None) -> dict[str, Any]:
    start = (now or datetime.now(UTC)).replace(microsecond=0)
    return {
        "kind": "share",
        "dataset_id": DATASET,
        "fields": FIELDS,
        "purpose": purpose,
        "legal_basis": None,
        "period": {"start": start.isoformat(), "end": (start + timedelta(days=365)).isoformat()},
    }
