"""Who hears of an event, and what they receive: a pure function of one Kafka message.

CONTRACT's webhook types: `approval.requested` to the approver of a step (a CDO, a delegate's
body or a stand-in bureau), `approval.reminder` to it when the deadline nears,
`approval.escalated` to the new approver and to the one who let the step lapse,
`request.decided` to the requester once the request is final, `grant.issued` and
`grant.revoked` to the grantee and the provider (whose CDO DOMAIN rule 1 says is informed);
`problem.reported` to the provincial bureau that answers and the bodies a problem report names,
`problem.answered` to the reporter and the bodies named; `appeal.requested` to an appeal's
coordinator, `appeal.escalated` to the next one up and the one who let it lapse, and
`appeal.decided` to the requester and the provider.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

CE_PREFIX = "cn.gov.gd.cdo."
FINAL = {"approved", "rejected", "cancelled", "expired", "vetoed"}


@dataclass(frozen=True)
class Notification:
    webhook_id: str  # the same for every attempt, and for the same message consumed twice
    ce_id: str
    organisation_id: str
    type: str
    request_id: str | None
    body: dict[str, Any]  # {"type", "timestamp", "data"}


def webhook_id(ce_id: str, organisation_id: str, webhook_type: str) -> str:
    digest = hashlib.sha256(f"{ce_id}|{organisation_id}|{webhook_type}".encode()).hexdigest()
    return f"msg_{digest[:32]}"


def notifications(
    ce_id: str, ce_type: str, ce_time: str, data: dict[str, Any]
) -> list[Notification]:
    family, _, name = ce_type.removeprefix(CE_PREFIX).partition(".")
    targets: list[tuple[str, str]] = []  # (organisation, webhook type)
    delegates = data.get("delegate_ids") or []
    if family == "approval" and name in ("requested", "reminder"):
        webhook_type = f"approval.{name}"
        targets = [(org, webhook_type) for org in [data["approver_id"], *delegates]]
    elif family == "approval" and name == "escalated":
        targets = [(org, "approval.escalated") for org in [data["approver_id"], *delegates]]
        if data.get("escalated_from"):
            targets.append((data["escalated_from"], "approval.escalated"))
    elif family == "approval" and name in ("appeal_requested", "appeal_escalated"):
        webhook_type = name.replace("_", ".")
        targets = [(data["approver_id"], webhook_type)]
        if data.get("escalated_from"):
            targets.append((data["escalated_from"], webhook_type))
    elif family == "request" and name == "appeal_decided":
        # the provider hears that its refusal was upheld or overturned: it decides no more
        targets = [
            (data["requester_id"], "appeal.decided"),
            (data["provider_id"], "appeal.decided"),
        ]
    elif family == "request" and name in FINAL:
        targets = [(data["requester_id"], "request.decided")]
    elif family == "grant" and name == "issued":
        targets = [(data["grantee_id"], "grant.issued"), (data["provider_id"], "grant.issued")]
    elif family == "grant" and name == "revoked":
        targets = [(data["grantee_id"], "grant.revoked"), (data["provider_id"], "grant.revoked")]
    elif family == "problem" and name in ("reported", "answered"):
        first = data["addressed_to"] if name == "reported" else data["reporter_id"]
        named = data["concerns"]["organisations"]
        targets = [(org, f"problem.{name}") for org in [first, *named]]
    seen: set[tuple[str, str]] = set()
    result = []
    for organisation_id, webhook_type in targets:
        if (organisation_id, webhook_type) in seen:
            continue
        seen.add((organisation_id, webhook_type))
        result.append(
            Notification(
                webhook_id=webhook_id(ce_id, organisation_id, webhook_type),
                ce_id=ce_id,
                organisation_id=organisation_id,
                type=webhook_type,
                request_id=data.get("request_id"),
                body={"type": webhook_type, "timestamp": ce_time, "data": data},
            )
        )
    return result
