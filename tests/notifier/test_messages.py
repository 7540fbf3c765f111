"""Reading a consumed message (pure): what reads, and why each unreadable one does not; the
headers its dead letter carries."""

from __future__ import annotations

import json
from typing import Any

import pytest

from notifier.dead_letters import DeadLetter, letter_headers, original_headers
from notifier.messages import Reason, Unreadable, read
from testing.events import approval_headers, approval_task, encoded, record

TASK = approval_task("gz-gaj", "req_test_messages")


def _with(**changes: Any) -> bytes:
    return encoded(TASK | changes)


def test_a_task_as_the_relay_writes_it_reads() -> None:
    headers = approval_headers("ce-1")
    event = read(record(encoded(TASK), headers))
    assert (event.ce_id, event.ce_type, event.ce_time) == (
        "ce-1",
        "cn.gov.gd.cdo.approval.requested",
        "2026-11-27T08:00:00Z",
    )
    assert event.data == TASK


@pytest.mark.parametrize(
    ("value", "headers", "reason", "detail"),
    [
        (b"\xe9\x00garbage", approval_headers(), Reason.not_json, "utf-8"),
        (b"{not json", approval_headers(), Reason.not_json, "Expecting"),
        (None, approval_headers(), Reason.not_json, "no value"),
        (encoded(TASK), [], Reason.not_cloudevent, "ce_id"),
        (encoded(TASK), [("ce_id", b"\xff"), ("ce_type", b"x")], Reason.not_cloudevent, "UTF-8"),
        (encoded(TASK), [("ce_id", b"1"), ("ce_type", b"org.other.thing")],
         Reason.unknown_type, "org.other.thing"),
        (encoded(TASK), [("ce_id", b"1"), ("ce_type", b"cn.gov.gd.cdo.invoice.paid")],
         Reason.unknown_type, "invoice"),
        (encoded({k: v for k, v in TASK.items() if k != "approver_id"}), approval_headers(),
         Reason.schema, "approver_id: Field required"),
        (_with(step="3"), approval_headers(), Reason.schema, "step: Input should be a valid int"),
        (_with(delegate_ids="gz-gov"), approval_headers(), Reason.schema, "delegate_ids"),
        (_with(period={"start": "yesterday", "end": TASK["period"]["end"]}), approval_headers(),
         Reason.schema, "period.start"),
        (_with(surprise=True), approval_headers(), Reason.schema, "surprise"),
        (json.dumps([TASK]).encode(), approval_headers(), Reason.schema, "(value)"),
    ],
)  # fmt: skip
def test_what_cannot_be_read_says_why(
    value: bytes | None, headers: list[tuple[str, bytes]], reason: Reason, detail: str
) -> None:
    with pytest.raises(Unreadable) as raised:
        read(record(value, headers))
    assert raised.value.reason is reason
    assert detail in raised.value.detail


def test_each_family_is_checked_against_its_own_schema() -> None:
    grant_headers = [("ce_id", b"1"), ("ce_type", b"cn.gov.gd.cdo.grant.issued")]
    with pytest.raises(Unreadable) as raised:
        read(record(encoded(TASK), grant_headers, topic="datashare.grants"))
    assert raised.value.reason is Reason.schema
    assert "grant_id: Field required" in raised.value.detail


def test_a_dead_letter_keeps_the_message_headers_and_says_why_and_where() -> None:
    headers = [*approval_headers("ce-9"), ("dlq_reason", b"schema")]  # dead-lettered before
    letter = DeadLetter(record(b"x", headers), Reason.not_json, "Expecting value")
    sent = letter_headers(letter)
    assert sent[: len(headers) - 1] == headers[:-1]
    assert dict(sent[len(headers) - 1 :]) == {
        "dlq_reason": b"not-json",
        "dlq_error": b"Expecting value",
        "dlq_topic": b"datashare.approvals",
        "dlq_partition": b"0",
        "dlq_offset": b"1",
    }
    assert original_headers(sent) == headers[:-1]
