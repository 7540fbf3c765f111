"""What the load files: requests of the seeded pilot bodies for the seeded datasets, in a mix
that takes every route of the default policy (DOMAIN rules 1-3)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

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
    start = datetime.now(UTC).replace(microsecond=0)
    period = {"start": start.isoformat(), "end": (start + timedelta(days=365)).isoformat()}
    result = []
    for index, kind in enumerate(kinds):
        requester, dataset = rng.choice(choices[kind])
        fields = [f["name"] for f in dataset["fields"]]
        body: dict[str, Any] = {
            "kind": "return" if kind == "return" else "share",
            "dataset_id": dataset["id"],
            "fields": rng.sample(fields, k=min(len(fields), rng.randint(2, 4))),
            "purpose": f"故障演练 fault run filing {index}: 政务服务一网通办核验",
            "period": period,
        }
        if kind == "return":
            body["jurisdiction"] = requester["division_code"]
        if kind == "not-shareable-with-legal-basis":
            body["legal_basis"] = "《中华人民共和国数据安全法》第三十八条 (fault run)"
        result.append(Filing(index, kind, requester["id"], body))
    return result
