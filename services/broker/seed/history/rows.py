"""The rows a history is made of, in the tables' column order, and what every story shares:
the directory's bodies and datasets, the audit chains as they grow, ids made at a given time."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import FetchedValue, Integer, Table

from broker.audit.keys import AuditKey
from broker.audit.service import GENESIS, canonical_content, chain_of, chained_content
from broker.routing.model import DirectoryView
from broker.routing.policy import Policy
from core import topics
from core.db import Base
from core.events import ce_type
from core.models import audit, catalog, grants, outbox, requests, webhooks

# Parents before children: the order they are copied in (a demand's draft entry first).
_TABLES = (
    catalog.Dataset, requests.DataRequest, requests.RequestStep, requests.StepApprover,
    requests.Decision, requests.Escalation, requests.Clarification, grants.Grant,
    grants.GrantChange, outbox.OutboxEvent, webhooks.WebhookDelivery, webhooks.WebhookAttempt,
    audit.AuditEntry,
)  # fmt: skip


def _written(table: Table) -> tuple[str, ...]:
    """Every column but those the database fills: serial keys, and `tx` (FetchedValue)."""
    return tuple(
        c.name
        for c in table.columns
        if not (c.primary_key and isinstance(c.type, Integer))
        and type(c.server_default) is not FetchedValue
    )


COLUMNS: dict[str, tuple[str, ...]] = {
    t.__tablename__: _written(Base.metadata.tables[t.__tablename__]) for t in _TABLES
}

DAY = 86_400


@dataclass(frozen=True)
class Body:
    id: str
    level: str
    division_code: str
    # (starts_at, ends_at, appointment id, CDO's name) of each appointment, oldest first
    terms: tuple[tuple[datetime, datetime | None, str, str], ...] = ()

    def cdo_at(self, moment: datetime) -> tuple[str, str] | None:
        for start, end, appointment_id, name in self.terms:
            if start <= moment and (end is None or moment < end):
                return appointment_id, name
        return None


@dataclass(frozen=True)
class DatasetRow:
    id: str
    owner_id: str
    sharing_class: str
    grade: str
    fields: tuple[str, ...]
    personal: frozenset[str]  # fields marked personal or sensitive: granting them needs a reason


@dataclass
class Rows:
    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, table: str, *values: Any) -> None:
        self.tables[table].append(values)

    def put(self, table: str, **values: Any) -> None:
        """A row by column name; a column left out is null, as the ORM leaves it."""
        unknown = set(values) - set(COLUMNS[table])
        assert not unknown, f"{table}: no columns {sorted(unknown)}"
        self.tables[table].append(tuple(values.get(c) for c in COLUMNS[table]))

    def count(self) -> int:
        return sum(len(rows) for rows in self.tables.values())


@dataclass
class AuditChains:
    """The audit chains' heads as rows are appended (starting from the database's)."""

    key: AuditKey
    heads: dict[int, tuple[str, str]]  # chain -> (prev_hash, hash)

    def append(
        self,
        rows: Rows,
        txn: list[int],
        at: datetime,
        actor: str | None,
        action: str,
        subject: str,
        **detail: Any,
    ) -> None:
        if not txn:  # one transaction's rows stay on the chain of its first (audit.record)
            txn.append(chain_of(subject))
        chain = txn[0]
        previous = self.heads.get(chain, (GENESIS, GENESIS))[1]
        content = canonical_content(
            occurred_at=at,
            actor=actor,
            client_id=None,
            person_id=None,
            action=action,
            subject=subject,
            detail=detail,
        )
        digest = self.key.mac(chained_content(previous, content))
        self.heads[chain] = (previous, digest)
        rows.add(
            "audit_log",
            at,
            actor,
            None,
            None,
            action,
            subject,
            json.dumps(detail),
            chain,
            self.key.id,
            previous,
            digest,
        )


def time_id(prefix: str, moment: datetime, rng: random.Random) -> str:
    """An id shaped and ordered as `core.ids.new_id` makes them, at `moment`."""
    millis = int(moment.timestamp() * 1000)
    return f"{prefix}_{millis:012x}{rng.getrandbits(16):04x}{rng.getrandbits(40):010x}"


def working_seconds(seconds: int) -> int:
    """Roughly the office time in an elapsed span (9 of 24 hours, 5 of 7 days)."""
    return int(seconds * 9 / 24 * 5 / 7)


@dataclass
class History:
    """What one call of `story` needs, kept between calls."""

    bodies: Mapping[str, Body]
    requesters: Sequence[str]
    datasets: Sequence[DatasetRow]
    policy: Policy
    views: Callable[[datetime], DirectoryView]  # the directory as it stood at a moment
    chains: AuditChains
    until: datetime
    rng: random.Random
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class RequestFacts:
    """One request's facts while its story is told."""

    id: str
    kind: str
    requester: Body
    provider_id: str
    dataset: DatasetRow | None  # None for a demand and an IT project
    wanted: list[str]
    trace: str
    created: datetime
    dataset_id: str | None = None  # the dataset's; a demand's draft entry once approved
    description: str | None = None  # a demand's: the data wanted
    events: list[tuple[datetime, str, str, str, dict[str, Any], str | None]] = field(
        default_factory=list
    )  # (at, topic, key, type, data, recipient of its webhook)

    def event(
        self, at: datetime, family: str, name: str, key: str, to: str | None = None, **data: Any
    ) -> None:
        topic = {"request": topics.REQUESTS, "approval": topics.APPROVALS}.get(
            family, topics.GRANTS
        )
        body = {
            "event": name,
            "request_id": self.id,
            "kind": self.kind,
            "requester_id": self.requester.id,
            "provider_id": self.provider_id,
            "dataset_id": self.dataset_id,
            "trace_id": self.trace,
            "occurred_at": at.isoformat(),
            **data,
        }
        self.events.append((at, topic, key, ce_type(family, name), body, to))  # type: ignore[arg-type]
