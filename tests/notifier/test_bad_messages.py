"""No bad message stops the notifier (issue 12, item 4; CONTRACT v2). Messages it cannot read sit
ahead of a real approval task in its partition: random bytes, JSON that lacks a required field
or has a field of the wrong type, a message without CloudEvents headers, and a valid task the
database refuses. The real task is still delivered; each bad one is on `datashare.dlq` as it
came, with why and where from; and one of them, fixed, goes back with `cdo-broker dlq replay`."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from core import topics
from testing import REPO_ROOT
from testing.apps import broker_with
from testing.clients import ALL_SCOPES, TokenFactory, bearer, file
from testing.events import approval_headers, approval_task, encoded
from testing.kafka import Record, header, open_tail, produce
from testing.prometheus import series_value
from testing.receivers import Receiver
from testing.settings import Settings
from testing.waiting import wait_until
from testing.workloads import request_body

pytestmark = pytest.mark.integration
# 江门市人力资源和社会保障局 asks 江门市公安局: a city no other notifier test registers endpoints in
REQUESTER, APPROVER = "jm-rsj", "jm-gaj"
DATASET = "jm-gaj-exit-entry-documents"
DEAD_LETTERED = "cdo_consumer_dead_lettered_total"


def _bad_messages(marker: str) -> dict[str, tuple[bytes, list[tuple[str, bytes]]]]:
    """Name -> (value, headers), each keyed by the approver (the real task's partition)."""
    lacking = approval_task(APPROVER, f"req_{marker}_lacking")
    del lacking["approver_id"]
    wrong_type = approval_task(APPROVER, f"req_{marker}_wrong")
    wrong_type["step"] = "first"
    too_long = approval_task(APPROVER, f"req_{marker}_" + "x" * 60)  # past its column's 40
    return {
        "random bytes": (secrets.token_bytes(64), approval_headers()),
        "lacks a field": (encoded(lacking), approval_headers()),
        "wrong type": (encoded(wrong_type), approval_headers()),
        "no CloudEvent": (encoded(approval_task(APPROVER, f"req_{marker}_bare")), []),
        "refused by the database": (encoded(too_long), approval_headers()),
    }


EXPECTED_REASON = {
    "random bytes": "not-json",
    "lacks a field": "schema",
    "wrong type": "schema",
    "no CloudEvent": "not-cloudevent",
    "refused by the database": "unprocessable",
}


def _int(record: Record, name: str) -> int:
    return int(header(record, name) or -1)


def _approval_requests(receiver: Receiver) -> dict[str, dict[str, Any]]:
    """request id -> body of each `approval.requested` webhook received."""
    bodies = [json.loads(r.body) for r in receiver.requests]
    return {b["data"]["request_id"]: b for b in bodies if b["type"] == "approval.requested"}


def _cdo_broker(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    assert settings.kafka_bootstrap_servers
    env = os.environ | {"KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers}
    return subprocess.run(
        [sys.executable, "-m", "cdo_cli", *args],
        env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def test_bad_messages_go_to_the_dlq_and_the_next_approval_is_delivered(
    app: FastAPI,
    settings: Settings,
    client: httpx.AsyncClient,
    token_for: TokenFactory,
    notifier_port: int,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    assert settings.kafka_bootstrap_servers
    bootstrap = settings.kafka_bootstrap_servers
    metrics_url = f"http://127.0.0.1:{notifier_port}/metrics"
    async with httpx.AsyncClient() as http:
        before = (await http.get(metrics_url)).text
    approver = bearer(await token_for(APPROVER, ALL_SCOPES + " webhooks:manage"))
    async with broker_with(app, settings, webhook_allow_private_urls=True) as broker:
        registered = await broker.put(
            "/v1/webhooks/endpoint", headers=approver, json={"url": receiver.url}
        )
        assert registered.status_code in (200, 201), registered.text

    marker = uuid.uuid4().hex[:8]
    bad = _bad_messages(marker)
    key = APPROVER.encode()
    async with open_tail(bootstrap, topics.DLQ) as dlq:
        sent = await produce(
            bootstrap,
            topics.APPROVALS,
            [(key, value, headers) for value, headers in bad.values()],
        )
        requester = bearer(await token_for(REQUESTER, ALL_SCOPES))
        filed = await file(client, requester, request_body(DATASET, ["application_number"]))
        assert filed.status_code == 201, filed.text
        request = filed.json()
        assert request["route"][0]["approvers"][0]["organisation_id"] == APPROVER
        await wait_until(
            lambda: request["id"] in _approval_requests(receiver),
            limit_s=60,
            what="the real approval task delivered past the bad messages",
        )
        # Where each bad message was; the letters naming those places, by message name.
        where = {(m.partition, m.offset): name for m, name in zip(sent, bad, strict=True)}
        ours: dict[str, list[Record]] = {}

        async def all_dead_lettered() -> bool:
            for letter in await dlq.read([APPROVER]):
                came_from = (header(letter, "dlq_topic"), _int(letter, "dlq_partition"),
                             _int(letter, "dlq_offset"))  # fmt: skip
                if came_from[0] == topics.APPROVALS and came_from[1:] in where:
                    ours.setdefault(where[came_from[1:]], []).append(letter)
            return set(ours) == set(bad)

        await wait_until(all_dead_lettered, limit_s=30, what="every bad message on the DLQ")

    # Each bad message is on the DLQ once, as it came, with why and where it was.
    assert all(len(copies) == 1 for copies in ours.values()), ours
    letters = {name: copies[0] for name, copies in ours.items()}
    for name, letter in letters.items():
        value, headers = bad[name]
        assert letter.key == key
        assert letter.value == value
        assert list(letter.headers[: len(headers)]) == headers, name
        assert header(letter, "dlq_reason") == EXPECTED_REASON[name], name
        assert header(letter, "dlq_error"), name
    assert "approver_id" in (header(letters["lacks a field"], "dlq_error") or "")
    assert "step" in (header(letters["wrong type"], "dlq_error") or "")

    async with httpx.AsyncClient() as http:
        after = (await http.get(metrics_url)).text
    for reason in set(EXPECTED_REASON.values()):
        count = sum(1 for expected in EXPECTED_REASON.values() if expected == reason)
        labels = {"topic": topics.APPROVALS, "reason": reason}
        moved = series_value(after, DEAD_LETTERED, **labels) - series_value(
            before, DEAD_LETTERED, **labels
        )
        assert moved == count, reason

    # Listed by the command, refused for replay while still unreadable, replayed once fixed.
    listed = _cdo_broker(settings, "dlq", "list", "--topic", topics.APPROVALS, "--limit", "1000")
    assert listed.returncode == 0, listed.stderr
    listed_at = {
        (line["from"]["partition"], line["from"]["offset"])
        for line in map(json.loads, listed.stdout.splitlines())
    }
    assert set(where) <= listed_at
    wrong = letters["wrong type"]
    at = ("--partition", str(wrong.partition), "--offset", str(wrong.offset))
    refused = _cdo_broker(settings, "dlq", "replay", *at)
    assert refused.returncode == 1
    assert "would not read" in refused.stderr
    fixed = approval_task(APPROVER, f"req_{marker}_wrong")
    (tmp_path / "fixed.json").write_bytes(encoded(fixed))
    replayed = _cdo_broker(
        settings, "dlq", "replay", *at, "--value-file", str(tmp_path / "fixed.json")
    )
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["topic"] == topics.APPROVALS
    await wait_until(
        lambda: f"req_{marker}_wrong" in _approval_requests(receiver),
        limit_s=60,
        what="the replayed, fixed task delivered",
    )
    delivered = _approval_requests(receiver)[f"req_{marker}_wrong"]
    assert delivered["data"] == fixed
