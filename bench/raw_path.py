"""bench/e2e's raw path floor after the filing: a plain relay and a plain consumer, each the least
code that leaves the durable effects the broker's relay and the notifier leave.

The filing is bench/raw_floor.py's `POST /raw/requests/checked` started with `--notify CHANNEL`:
one statement writes the request's rows, its outbox events among them, and notifies CHANNEL.

- `relay`: LISTENs on CHANNEL, so each filing's commit wakes it as the broker's commits wake its
  relay (and looks every 0.1 s besides, the broker relay's poll). A turn reads up to 200 unsent
  outbox rows in id order (one round trip), produces each as its CloudEvent (the `ce_*` headers,
  the row's data as the value) with the relay's producer settings (idempotent, acks=all), waits
  for every ack, then marks them sent (one round trip). A row is marked only after its ack, so a
  relay that dies in between sends it again: at least once, as the broker's.
- `consume`: reads `datashare.approvals` in its own group as the notifier does (`getmany`,
  200 ms, 500 records; offsets committed by hand). For a batch's `approval.requested` events, one
  statement writes a pending delivery row per recipient (the approver and its delegates) in the
  notifier's table under the notifier's webhook-id, and answers each row still pending with its
  endpoint (a message read again finds its row and POSTs it again: at least once, same id). Each
  body is signed as the notifier signs (Standard Webhooks: HMAC-SHA256 with the endpoint's
  secret, decrypted with the webhook secret key, the `webhook-*` headers) and POSTed with httpx
  keeping 2 connections alive, as the notifier's worker does per name (40 at once, as
  bench/kafka_floor.py: what the notifier allows the bench's ten endpoints); then one
  statement records every outcome with its attempt row, and the offsets are committed after.

Left out, as they leave no durable effect on this path: the schema validation and dead-letter
topic of unreadable messages, notification channels, retries on the schedule (a failed POST
stays pending), the address check before each POST, a rotation's second signature.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from cryptography.fernet import Fernet, MultiFernet

CHANNEL = "cdo_bench_raw_outbox"
APPROVALS = "datashare.approvals"
REQUESTED = "cn.gov.gd.cdo.approval.requested"
BATCH = 200  # rows a relay turn reads, as the broker's
POLL_S = 0.1  # the broker relay's poll, for what a notification did not wake it for

_UNSENT = """
SELECT id, event_id, topic, key, type, source, subject, data::text, traceparent, tracestate,
       created_at
FROM outbox_events WHERE sent_at IS NULL ORDER BY id LIMIT $1"""
_MARK = """
UPDATE outbox_events SET sent_at = now(), attempts = attempts + 1, last_error = NULL
WHERE id = ANY($1::bigint[]) AND sent_at IS NULL"""

# The deliveries (nothing new for a message read again), and those still pending with where
# they go: one round trip.
_RECORD = """
WITH d AS (
  INSERT INTO webhook_deliveries
    (id, organisation_id, channel, event_type, ce_id, request_id, payload, status, attempts,
     next_attempt_at, created_at)
  SELECT id, organisation_id, 'webhook', 'approval.requested', ce_id, request_id, payload::json,
         'pending', 0, now(), now()
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
    AS n(id, organisation_id, ce_id, request_id, payload)
  ON CONFLICT (id) DO UPDATE SET status = webhook_deliveries.status
    WHERE webhook_deliveries.status = 'pending'
  RETURNING id, organisation_id
)
SELECT d.id, e.url, e.secret_ciphertext
FROM d JOIN webhook_endpoints e ON e.organisation_id = d.organisation_id
WHERE e.disabled_at IS NULL"""
# Every outcome of a batch with its attempt row: one round trip.
_SETTLE = """
WITH o AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::int[], $5::int[],
                       $6::text[])
    AS o(id, url, attempted_at, code, latency_ms, error)
), a AS (
  INSERT INTO webhook_attempts
    (delivery_id, endpoint_url, attempted_at, status_code, latency_ms, outcome, error)
  SELECT id, url, attempted_at, code, latency_ms,
         CASE WHEN code BETWEEN 200 AND 299 THEN 'delivered' ELSE 'retry' END, error
  FROM o
)
UPDATE webhook_deliveries d
SET status = CASE WHEN o.code BETWEEN 200 AND 299 THEN 'delivered' ELSE 'pending' END,
    attempts = d.attempts + 1, last_status_code = o.code, last_error = o.error,
    delivered_at = CASE WHEN o.code BETWEEN 200 AND 299 THEN now() END,
    next_attempt_at = CASE WHEN o.code BETWEEN 200 AND 299 THEN NULL ELSE d.next_attempt_at END
FROM o WHERE d.id = o.id"""


def _dsn() -> str:
    return os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")


def _stopping() -> asyncio.Event:
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    return stop


def _headers(row: asyncpg.Record) -> list[tuple[str, bytes]]:
    """The row's CloudEvent attributes, in the Kafka binding's binary mode."""
    moment = row["created_at"].astimezone(UTC).isoformat().replace("+00:00", "Z")
    headers = {
        "ce_specversion": "1.0",
        "ce_id": row["event_id"],
        "ce_source": row["source"],
        "ce_type": row["type"],
        "ce_time": moment,
        "content-type": "application/json",
        "ce_subject": row["subject"],
        "traceparent": row["traceparent"],
        "tracestate": row["tracestate"],
    }
    return [(name, value.encode()) for name, value in headers.items() if value]


async def relay(opts: argparse.Namespace) -> None:
    stop = _stopping()
    connection = await asyncpg.connect(_dsn())
    woken = asyncio.Event()
    await connection.add_listener(CHANNEL, lambda *_: woken.set())
    producer = AIOKafkaProducer(
        bootstrap_servers=opts.bootstrap,
        client_id="cdo-bench-raw-relay",
        enable_idempotence=True,
        acks="all",
    )
    await producer.start()
    try:
        while not stop.is_set():
            woken.clear()  # a commit from now on wakes the next turn
            rows = await connection.fetch(_UNSENT, BATCH)
            if rows:
                acks = [
                    await producer.send(
                        row["topic"],
                        value=row["data"].encode(),
                        key=row["key"].encode(),
                        headers=_headers(row),
                    )
                    for row in rows
                ]
                await asyncio.gather(*acks)
                await connection.execute(_MARK, [row["id"] for row in rows])
                if len(rows) == BATCH:
                    continue
            waking = asyncio.create_task(woken.wait())
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait([waking, stopped], timeout=POLL_S, return_when="FIRST_COMPLETED")
            waking.cancel()
            stopped.cancel()
    finally:
        await producer.stop()
        await connection.close()


def _webhook_id(ce_id: str, organisation_id: str) -> str:
    """The notifier's webhook-id: a message consumed twice maps onto the same delivery."""
    digest = hashlib.sha256(f"{ce_id}|{organisation_id}|approval.requested".encode()).hexdigest()
    return f"msg_{digest[:32]}"


def _cipher() -> MultiFernet:
    """The webhook secret keys (WEBHOOK_SECRET_KEY, else development's key file)."""
    configured = os.environ.get("WEBHOOK_SECRET_KEY", "")
    keys = [k.strip().encode() for k in configured.split(",") if k.strip()]
    if not keys:
        keys = [
            (Path(os.environ["BROKER_DEV_KEY_DIR"]) / "webhook-secret.key").read_bytes().strip()
        ]
    return MultiFernet([Fernet(key) for key in keys])


def _signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.digest(key, signed, hashlib.sha256)).decode()


class Delivery(NamedTuple):
    organisation: str
    ce_id: str
    request_id: str | None
    body: bytes  # the exact bytes signed and sent


def _deliveries(records: list[Any]) -> dict[str, Delivery]:
    """A delivery per recipient of each `approval.requested` event in `records`, by its
    webhook-id."""
    found: dict[str, Delivery] = {}
    for record in records:
        headers = {name: bytes(value).decode() for name, value in record.headers}
        if headers.get("ce_type") != REQUESTED:
            continue
        data = json.loads(record.value)
        body = {"type": "approval.requested", "timestamp": headers.get("ce_time", ""), "data": data}
        encoded = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        for organisation in dict.fromkeys([data["approver_id"], *(data.get("delegate_ids") or [])]):
            webhook_id = _webhook_id(headers["ce_id"], organisation)
            found[webhook_id] = Delivery(
                organisation, headers["ce_id"], data.get("request_id"), encoded
            )
    return found


async def consume(opts: argparse.Namespace) -> None:
    stop = _stopping()
    connection = await asyncpg.connect(_dsn())
    cipher = _cipher()
    secrets: dict[str, str] = {}  # ciphertext: secret
    consumer = AIOKafkaConsumer(
        APPROVALS,
        bootstrap_servers=opts.bootstrap,
        group_id=opts.group,
        enable_auto_commit=False,
        auto_offset_reset="latest",
    )
    await consumer.start()
    announced = False
    # As many POSTs in flight as the notifier allows the bench's ten endpoints (4 each), as
    # bench/kafka_floor.py (one limit for all: the plainest).
    slots = asyncio.Semaphore(opts.in_flight)
    limits = httpx.Limits(max_connections=opts.in_flight, max_keepalive_connections=2)
    http = httpx.AsyncClient(timeout=10, limits=limits, follow_redirects=False, trust_env=False)

    async def post(webhook_id: str, url: str, ciphertext: str, body: bytes) -> list[Any]:
        async with slots:
            return await _post(webhook_id, url, ciphertext, body)

    async def _post(webhook_id: str, url: str, ciphertext: str, body: bytes) -> list[Any]:
        if ciphertext not in secrets:
            secrets[ciphertext] = cipher.decrypt(ciphertext.encode()).decode()
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": _signature(secrets[ciphertext], webhook_id, timestamp, body),
        }
        at, started = datetime.now(UTC), time.perf_counter()
        code, error = None, None
        try:
            code = (await http.post(url, content=body, headers=headers)).status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        latency_ms = round(1000 * (time.perf_counter() - started))
        return [webhook_id, url, at, code, latency_ms, error]

    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            if consumer.assignment() and not announced:
                Path(opts.ready).write_text("assigned")  # noqa: ASYNC240 (once)
                announced = True
            records = [record for batch in batches.values() for record in batch]
            if not records:
                continue
            wanted = _deliveries(records)
            if wanted:
                due = await connection.fetch(
                    _RECORD,
                    list(wanted),
                    [d.organisation for d in wanted.values()],
                    [d.ce_id for d in wanted.values()],
                    [d.request_id for d in wanted.values()],
                    [d.body.decode() for d in wanted.values()],
                )
                outcomes = await asyncio.gather(
                    *(post(row["id"], row["url"], row["secret_ciphertext"], wanted[row["id"]].body)
                      for row in due)
                )  # fmt: skip
                if outcomes:
                    await connection.execute(
                        _SETTLE, *(list(c) for c in zip(*outcomes, strict=True))
                    )
            await consumer.commit()
    finally:
        await consumer.stop()
        await http.aclose()
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", choices=["relay", "consume"])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--group", default="cdo-bench-raw-path", help="consume: its group")
    parser.add_argument("--ready", default="", help="consume: a file written once assigned")
    parser.add_argument("--in-flight", type=int, default=40, help="consume: POSTs at once")
    opts = parser.parse_args()
    asyncio.run(relay(opts) if opts.role == "relay" else consume(opts))


if __name__ == "__main__":
    main()
