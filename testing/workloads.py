"""What tests and benches file, and the open loop the load generators file it in.

`request_body` is one filing; `body` the benches' cross-level requests for a conditional
provincial dataset, each routed in two steps (the requesting city's government CDO, then the
provider department's CDO), so every filing plans a real route, writes its steps and approvers
and three outbox events (`submitted`, `routed`, one approval task); `filings` the fault run's
mix, which takes every route of the default policy (DOMAIN rules 1-3).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import zip_longest
from typing import Any

from broker.seed.pilot import load_pilot

PURPOSE = "政务服务一网通办核验 / identity checks for online services"


def request_body(
    dataset_id: str,
    fields: list[str],
    *,
    purpose: str = PURPOSE,
    now: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A share request's body for a year from `now`."""
    start = (now or datetime.now(UTC)).replace(microsecond=0)
    return {
        "kind": "share",
        "dataset_id": dataset_id,
        "fields": fields,
        "purpose": purpose,
        "legal_basis": None,
        "period": {
            "start": start.isoformat(),
            "end": (start + timedelta(days=365)).isoformat(),
        },
        **extra,
    }


def demand_body(provider: str = "gz-rsj", **extra: Any) -> dict[str, Any]:
    """A demand's body (需求): data the catalog lacks, presumed to be `provider`'s."""
    start = datetime.now(UTC).replace(microsecond=0)
    return {
        "kind": "demand",
        "description": "灵活就业人员社保缴费明细（按月）",
        "presumed_provider_id": provider,
        "purpose": "核验积分入户申请人的社保缴费年限",
        "period": {"start": start.isoformat(), "end": (start + timedelta(days=365)).isoformat()},
        **extra,
    }


def project_body(stage: str = "initiation") -> dict[str, Any]:
    """An IT project's body (信息化项目) at `stage`."""
    return {
        "kind": "it_project",
        "purpose": "建设全市户政业务一体化平台，替代分散的区级系统",
        "project": {
            "name": "广州市户政一体化平台",
            "code": "GZGAJ-2026-017",
            "budget_cny": 12_800_000,
            "stage": stage,
        },
    }


# --- the benches' filings
DATASET = "gd-gat-population-basic"
FIELDS = ["id_number", "name", "household_address"]


def body(purpose: str, now: datetime | None = None) -> dict[str, Any]:
    return request_body(DATASET, FIELDS, purpose=purpose, now=now)


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


# --- the fault run's mix
RANK = {"province": 0, "city": 1, "county": 2, "town": 3}
# Share of each kind of request in the load. Unconditional ones are granted at once; the others
# wait for one or two CDOs, so they are what the CDO systems' webhooks have to carry.
MIX: dict[str, float] = {
    "unconditional": 0.30,
    "conditional-same-level": 0.30,
    "conditional-cross-level": 0.20,
    "return": 0.10,
    "not-shareable-with-legal-basis": 0.10,
}


@dataclass(frozen=True)
class Filing:
    index: int
    kind: str  # a key of MIX
    requester_id: str
    body: dict[str, Any]


Pair = tuple[dict[str, Any], dict[str, Any]]  # (requester, dataset)


def _pairs(pilot: dict[str, Any]) -> dict[str, list[Pair]]:
    orgs = {o["id"]: o for o in pilot["organisations"]}
    filers = [o for o in orgs.values() if o["kind"] in ("department", "government")]
    choices: dict[str, list[Pair]] = {kind: [] for kind in MIX}

    def add(kind: str, dataset: dict[str, Any], level: str) -> None:
        """Pairs of `dataset` with each body that may file it at `level` of its owner's."""
        owner = orgs[dataset["owner_id"]]
        rank = RANK[owner["level"]]
        fits: Callable[[dict[str, Any]], bool] = {
            "any": lambda r: True,
            "same": lambda r: RANK[r["level"]] == rank,
            "other": lambda r: RANK[r["level"]] != rank,
            "below": lambda r: RANK[r["level"]] > rank,
        }[level]
        choices[kind] += [(r, dataset) for r in filers if r["id"] != owner["id"] and fits(r)]

    for dataset in pilot["datasets"]:
        sharing = dataset["sharing_class"]
        if sharing == "unconditional":
            add("unconditional", dataset, "any")
        elif sharing == "conditional":
            add("conditional-same-level", dataset, "same")
            add("conditional-cross-level", dataset, "other")
            add("return", dataset, "below")
        elif sharing == "not_shareable":
            add("not-shareable-with-legal-basis", dataset, "any")
    empty = [kind for kind, pairs in choices.items() if not pairs]
    if empty:
        raise ValueError(f"the pilot seed has no requester/dataset pair for {empty}")
    return choices


def filings(pilot: dict[str, Any], count: int, seed: int) -> list[Filing]:
    """`count` filings in a random order fixed by `seed`."""
    rng = random.Random(seed)
    choices = _pairs(pilot)
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=count)
    now = datetime.now(UTC)
    result = []
    for index, kind in enumerate(kinds):
        requester, dataset = rng.choice(choices[kind])
        fields = [f["name"] for f in dataset["fields"]]
        extra: dict[str, Any] = {}
        if kind == "return":
            extra = {"kind": "return", "jurisdiction": requester["division_code"]}
        if kind == "not-shareable-with-legal-basis":
            extra = {"legal_basis": "《中华人民共和国数据安全法》第三十八条 (fault run)"}
        body = request_body(
            dataset["id"],
            rng.sample(fields, k=min(len(fields), rng.randint(2, 4))),
            purpose=f"故障演练 fault run filing {index}: 政务服务一网通办核验",
            now=now,
            **extra,
        )
        result.append(Filing(index, kind, requester["id"], body))
    return result


# --- the open loop
async def paced(
    count: int, rate: float, *, lead_s: float = 0.0
) -> AsyncIterator[tuple[int, float]]:
    """(i, due) for i in range(count), each yielded at its due time (seconds since the epoch):
    `lead_s` from now plus i / rate, whatever became of the earlier ones. An open loop: a slow
    server shows as latency instead of a lower rate (no coordinated omission), as long as the
    caller starts each one without waiting for it."""
    start = time.time() + lead_s
    for i in range(count):
        due = start + i / rate
        # The schedule is what is measured: a sleep until each is due, not a wait for a state.
        await asyncio.sleep(max(0.0, due - time.time()))
        yield i, due
