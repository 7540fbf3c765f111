"""Events as the broker writes them: their committed JSON Schemas, and messages as the relay
publishes them, built from the event models, for tests that put their own on the topics (and
bad ones next to them)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
from aiokafka.structs import ConsumerRecord

from core.events import (
    ApprovalTask,
    Period,
    ProblemConcerns,
    ProblemEvent,
    ProblemEventName,
    TaskDataset,
)
from notifier.messages import Event
from testing import REPO_ROOT

SCHEMA_FOR_FAMILY = {
    "request": "request-event",
    "approval": "approval-task",
    "grant": "grant-event",
    "problem": "problem-event",
    "notification": "dead-letter",
}


def validator_for(ce_type: str) -> jsonschema.protocols.Validator:
    """The validator of the committed schema (schemas/events/) of events of type `ce_type`."""
    family = ce_type.removeprefix("cn.gov.gd.cdo.").split(".")[0]
    path = REPO_ROOT / "schemas" / "events" / f"{SCHEMA_FOR_FAMILY[family]}.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


AT = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def approval_task(approver: str, request_id: str) -> dict[str, Any]:
    """A valid `approval.requested` task's JSON (its `data`)."""
    task = ApprovalTask(
        task="approval.requested",
        request_id=request_id,
        step=0,
        role="provider_department",
        approver_id=approver,
        acting_for=None,
        escalated_from=None,
        delegate_ids=[],
        required=1,
        kind="share",
        requester={"id": "gz-gaj", "name": "广州市公安局", "name_en": "Guangzhou PSB"},
        dataset=TaskDataset(id="gd-rst-x", name="x", sharing_class="conditional", owner_id="x"),
        fields=["id_number"],
        purpose="test",
        legal_basis=None,
        period=Period(start=AT, end=AT + timedelta(days=30)),
        jurisdiction=None,
        route=[],
        due_at=AT + timedelta(days=3),
        decision_url=f"http://127.0.0.1:8000/v1/requests/{request_id}/decision",
        trace_id="0" * 32,
        occurred_at=AT,
    )
    return task.model_dump(mode="json")


def approval_headers(ce_id: str | None = None) -> list[tuple[str, bytes]]:
    return [
        ("ce_specversion", b"1.0"),
        ("ce_id", (ce_id or str(uuid.uuid4())).encode()),
        ("ce_type", b"cn.gov.gd.cdo.approval.requested"),
        ("ce_time", b"2026-11-27T08:00:00Z"),
        ("content-type", b"application/json"),
    ]


def approval_event(approver: str, request_id: str) -> Event:
    headers = dict(approval_headers())
    return Event(
        ce_id=headers["ce_id"].decode(),
        ce_type=headers["ce_type"].decode(),
        ce_time=headers["ce_time"].decode(),
        data=approval_task(approver, request_id),
    )


def record(
    value: bytes | None,
    headers: list[tuple[str, bytes]],
    *,
    topic: str = "datashare.approvals",
    key: bytes | None = b"gz-gaj",
) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=topic, partition=0, offset=1, timestamp=0, timestamp_type=0, key=key, value=value,
        checksum=None, serialized_key_size=0, serialized_value_size=len(value or b""),
        headers=headers,
    )  # fmt: skip


def encoded(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def problem_event(name: str = "reported", **changes: Any) -> dict[str, Any]:
    """A valid problem report event's JSON (its `data`): gz-gaj reports gz-rsj to gd-dsb."""
    event = ProblemEvent(
        event=ProblemEventName(name),
        problem_id="prb_1",
        status="answered" if name == "answered" else "open",
        reporter_id="gz-gaj",
        addressed_to="gd-dsb",
        summary="人社局逾期未答复共享申请",
        details="申请已提交十个工作日，未获答复。",
        concerns=ProblemConcerns(organisations=["gz-rsj"], requests=["req_1"]),
        resolution="已督促答复" if name == "answered" else None,
        reported_at=AT,
        answered_at=AT + timedelta(days=1) if name == "answered" else None,
        problems_url="https://cdo.gd.gov.cn/v1/reports/problems/prb_1",
        occurred_at=AT,
        actor="gd-dsb" if name == "answered" else "gz-gaj",
    )
    return event.model_dump(mode="json") | changes
