"""What a request of the history asks, by kind: a share or a return names a dataset of the
catalog (its sharing class and grade route it); a demand (需求) asks a presumed provider for
data the catalog lacks; an IT project (信息化项目) asks its own body's CDO, then its government's,
to pass it. The proportions (5 % demands and IT projects) are a guess, not data."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from broker.routing.model import RoutingRequest
from broker.seed.history.rows import Body, DatasetRow, History

_RANK = {"province": 0, "city": 1, "county": 2, "town": 3}
_DEMANDS = (
    "按月提供辖区内新增市场主体的登记信息，用于开展涉企服务",
    "提供辖区内在建工程的施工许可与竣工验收信息，用于安全生产检查",
    "提供困难群众的救助发放明细，用于核对重复领取",
)
_PROJECTS = ("政务数据共享平台扩容", "一网统管指挥中心升级", "12345热线智能分派", "电子证照库建设")


@dataclass(frozen=True)
class Ask:
    kind: str
    requester: Body
    provider: Body  # the dataset's owner; a demand's presumed provider; an IT project's body
    dataset: DatasetRow | None
    legal: bool
    description: str | None = None
    project: dict[str, Any] | None = None

    def routing(self) -> RoutingRequest:
        return RoutingRequest(
            self.kind,
            self.requester.id,
            self.provider.id,
            self.dataset.sharing_class if self.dataset else None,
            self.legal,
            self.dataset.grade if self.dataset else None,
        )

    def wanted(self, rng: random.Random) -> list[str]:
        """The fields asked for: some of the dataset's; none for a demand or an IT project."""
        if self.dataset is None:
            return []
        return rng.sample(self.dataset.fields, rng.randint(1, len(self.dataset.fields)))


def ask(h: History, rng: random.Random) -> Ask | None:
    """What the next request asks, or None for one nobody would file (of one's own data)."""
    requester = h.bodies[rng.choice(h.requesters)]
    roll = rng.random()
    if roll < 0.03:
        code = (
            f"{requester.division_code[:6]}-XM-{rng.randint(2021, 2026)}-{rng.randint(1, 999):03d}"
        )
        project = {
            "name": rng.choice(_PROJECTS),
            "code": code,
            "budget_cny": rng.randint(20, 3000) * 10_000,
            "stage": rng.choice(("initiation", "acceptance")),
        }
        return Ask("it_project", requester, requester, None, False, project=project)
    dataset = rng.choice(h.datasets)
    owner = h.bodies[dataset.owner_id]
    if owner.id == requester.id:
        h.counts["own dataset, not filed"] += 1
        return None
    if roll < 0.05:
        return Ask("demand", requester, owner, None, False, description=rng.choice(_DEMANDS))
    upward = _RANK[owner.level] < _RANK[requester.level]
    kind = "return" if upward and rng.random() < 0.3 else "share"
    legal = rng.random() < (
        0.6 if dataset.sharing_class == "not_shareable" or dataset.grade == "core" else 0.2
    )
    return Ask(kind, requester, owner, dataset, legal)
