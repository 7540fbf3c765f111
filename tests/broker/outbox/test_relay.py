"""The relay against the real PostgreSQL and Kafka: once each, in order per key, through relays
starting, sharing, dying and Kafka going away."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.migrate import upgrade
from broker.outbox import relay as relay_module
from broker.outbox.relay import OutboxRelay
from core import topics
from core.cloudevents import rfc3339
from core.db import create_engine, create_sessionmaker
from core.models.outbox import SHARDS, OutboxEvent
from core.outbox import record_event
from testing import REPO_ROOT
from testing.kafka import Tail, first_occurrences, header, ids_per_key, payload
from testing.outbox import EVENT_TYPE, StartRelay, drained, new_keys, pending, record
from testing.settings import Settings
from testing.stacks import KafkaSwitch
from testing.waiting import wait_until

pytestmark = pytest.mark.integration

ALL_SHARDS = frozenset(range(SHARDS))
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

Sessions = async_sessionmaker[AsyncSession]


def merged(*parts: dict[str, list[str]]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for part in parts:
        for key, ids in part.items():
            result.setdefault(key, []).extend(ids)
    return result


async def rows(sessions: Sessions) -> dict[str, OutboxEvent]:
    async with sessions() as session:
        return {e.event_id: e for e in await session.scalars(select(OutboxEvent))}


async def test_every_event_goes_out_once_in_order_per_key_as_a_cloudevent(
    outbox: Sessions, relays: StartRelay, tail: Tail
) -> None:
    traced, untraced = new_keys(20), new_keys(10)
    running = relays()
    recorded = merged(
        await record(outbox, traced, 10, traceparent=TRACEPARENT, tracestate="cdo=1"),
        await record(outbox, untraced, 10, seed=2),
    )

    await wait_until(lambda: drained(outbox), limit_s=30, what="all 300 events to be sent")
    records = await tail.read(traced + untraced)

    assert ids_per_key(records) == recorded  # each exactly once, per key in recorded order
    stored = await rows(outbox)
    for r in records:
        row = stored[header(r, "ce_id") or ""]
        assert r.key == row.key.encode()
        assert header(r, "ce_specversion") == "1.0"
        assert header(r, "ce_source") == "/cdo-broker"
        assert header(r, "ce_type") == EVENT_TYPE
        assert header(r, "ce_subject") == row.key
        assert header(r, "ce_time") == rfc3339(row.created_at)
        assert datetime.fromisoformat(header(r, "ce_time") or "") == row.created_at
        assert header(r, "content-type") == "application/json"
        assert payload(r) == row.data
        expected_trace = (TRACEPARENT, "cdo=1") if row.key in traced else (None, None)
        assert (header(r, "traceparent"), header(r, "tracestate")) == expected_trace
    assert all(row.sent_at and row.attempts == 1 and not row.last_error for row in stored.values())
    assert running.relay.owned_shards == ALL_SHARDS
    assert running.relay.stats.published == 300


async def test_the_app_runs_a_relay_over_its_outbox(
    app: FastAPI, sessionmaker: Sessions, tail: Tail
) -> None:
    assert isinstance(app.state.outbox_relay, OutboxRelay)
    keys = new_keys(3)
    # Not a cn.gov.gd.cdo type: the requests tests validate those against the event schemas.
    recorded = await record(sessionmaker, keys, 3, event_type="org.example.outbox.probe")
    ids = [event_id for events in recorded.values() for event_id in events]

    async def all_sent() -> bool:
        async with sessionmaker() as session:
            sent = await session.scalars(
                select(OutboxEvent.sent_at).where(OutboxEvent.event_id.in_(ids))
            )
            return all(sent)

    await wait_until(all_sent, limit_s=10, what="the app's relay to send the events")
    assert ids_per_key(await tail.read(keys)) == recorded


async def test_a_commit_wakes_an_idle_relay_at_once(
    outbox: Sessions, relays: StartRelay, tail: Tail
) -> None:
    # Neither polling nor claiming would bring it back within the test: only the commit can.
    running = relays(poll_interval=30, claim_interval=30)
    await wait_until(
        lambda: (
            running.relay.stats.producer_starts == 1 and running.relay.owned_shards == ALL_SHARDS
        ),
        limit_s=10,
        what="the relay to start",
    )
    keys = new_keys(1)

    recorded = await record(outbox, keys, 1)
    latency = await wait_until(lambda: drained(outbox), limit_s=5, what="the event to be sent")

    assert latency < 0.5
    assert ids_per_key(await tail.read(keys)) == recorded


async def test_two_relays_split_the_shards_and_hand_over_without_loss_or_reordering(
    outbox: Sessions, relays: StartRelay, tail: Tail
) -> None:
    keys = new_keys(30)
    first = relays(batch_size=10)
    await wait_until(
        lambda: first.relay.owned_shards == ALL_SHARDS, limit_s=10, what="the first relay"
    )

    # Keep events coming while the second relay joins and half the shards change hands.
    recorded: dict[str, list[str]] = {}
    second = None
    for round_ in range(300):
        recorded = merged(recorded, await record(outbox, keys, 1, per_commit=30, seed=round_))
        if round_ == 2:
            second = relays(batch_size=10)
        if second and len(second.relay.owned_shards) == SHARDS // 2 and round_ >= 10:
            break
    else:
        pytest.fail("the second relay never got its half of the shards")
    await wait_until(lambda: drained(outbox), limit_s=30, what="every event to be sent")

    records = await tail.read(keys)
    assert ids_per_key(records) == recorded
    a, b = first.relay, second.relay
    assert a.owned_shards | b.owned_shards == ALL_SHARDS
    assert len(a.owned_shards) == len(b.owned_shards) == SHARDS // 2
    assert a.stats.published > 0
    assert b.stats.published > 0
    assert a.stats.published + b.stats.published == len(records)


async def test_a_relay_told_to_stop_marks_what_kafka_acked_before_it_goes(
    outbox: Sessions, relays: StartRelay, tail: Tail, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A batch acked whole is marked by the relay's next turn; with no next turn to come (no
    # commit wakes it, no poll or claim is due), a relay told to stop marks it on its way out, so
    # the relay after it does not send it again.
    monkeypatch.setattr(relay_module, "MARK_WITHIN_S", 3600.0)
    keys = new_keys(5)
    recorded = await record(outbox, keys, 2)  # before the relay starts: no commit wakes it
    running = relays(poll_interval=3600.0, claim_interval=3600.0)
    seen: list[Any] = []

    async def all_in_kafka() -> bool:
        seen.extend(await tail.read(keys))
        return len(seen) == 10

    await wait_until(all_in_kafka, limit_s=30, what="the batch to reach Kafka")
    assert await pending(outbox) == 10  # acked, left for a next turn that does not come

    running.stop.set()
    await asyncio.wait_for(running.task, timeout=30)

    assert await pending(outbox) == 0
    assert ids_per_key(seen) == recorded
    assert running.relay.stats.published == 10


class DiesBeforeMarking(OutboxRelay):
    """Hangs between Kafka's acks and marking the rows sent, until it is killed there."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acked_unmarked = 0
        self.hanging = asyncio.Event()

    async def _mark(self, connection: Any, acked: list[int], failed: dict[int, str]) -> None:
        if acked:
            self.acked_unmarked = len(acked)
            self.hanging.set()
            await asyncio.Event().wait()
        await super()._mark(connection, acked, failed)


async def test_a_killed_relays_shards_are_taken_over_at_least_once_in_order(
    outbox: Sessions, relays: StartRelay, tail: Tail
) -> None:
    keys = new_keys(20)
    doomed = relays(DiesBeforeMarking, batch_size=10)
    survivor = relays(batch_size=10)
    await wait_until(
        lambda: len(doomed.relay.owned_shards) == len(survivor.relay.owned_shards) == SHARDS // 2,
        limit_s=10,
        what="the relays to split the shards",
    )
    before = await record(outbox, keys, 5)
    assert isinstance(doomed.relay, DiesBeforeMarking)
    await wait_until(
        doomed.relay.hanging.is_set, limit_s=10, what="a batch acked and not yet marked"
    )

    await doomed.kill()
    after = await record(outbox, keys, 5, seed=2)  # half of them on the dead relay's shards
    await wait_until(
        lambda: survivor.relay.owned_shards == ALL_SHARDS, limit_s=10, what="the takeover"
    )
    await wait_until(lambda: drained(outbox), limit_s=30, what="every event to be sent")

    records = await tail.read(keys)
    # The batch acked but never marked goes out again; everything else exactly once, in order.
    assert first_occurrences(ids_per_key(records)) == merged(before, after)
    assert len(records) - 200 == doomed.relay.acked_unmarked > 0


async def test_an_event_kafka_refuses_holds_up_its_own_key_only(
    outbox: Sessions, relays: StartRelay, tail: Tail
) -> None:
    keys = new_keys(4)
    stuck = keys[0]
    async with outbox() as session:
        poison = await record_event(
            session, topic=topics.REQUESTS, key=stuck, type=EVENT_TYPE, data={}
        )
        poison.data = {"blob": "x" * 2_000_000}  # past record_event's guard: too big for Kafka
        await session.commit()
    recorded = await record(outbox, keys, 3)
    running = relays(max_backoff=0.2)

    async def only_the_stuck_key_waits() -> bool:
        waiting = [e for e in (await rows(outbox)).values() if e.sent_at is None]
        return len(waiting) == 4 and {e.key for e in waiting} == {stuck}

    await wait_until(only_the_stuck_key_waits, limit_s=15, what="every other key to be sent")
    await wait_until(
        lambda: running.relay.stats.retries >= 2, limit_s=15, what="the relay to retry"
    )

    assert ids_per_key(await tail.read(keys)) == {k: recorded[k] for k in keys[1:]}
    row = (await rows(outbox))[poison.event_id]
    assert row.attempts >= 2
    assert row.last_error is not None
    assert row.last_error.startswith("MessageSizeTooLargeError")


@pytest.mark.stack
async def test_an_outage_delays_events_but_loses_none_and_sends_none_twice(
    outbox: Sessions, relays: StartRelay, tail: Tail, kafka: KafkaSwitch
) -> None:
    keys = new_keys(10)
    running = relays()
    before = await record(outbox, keys, 3)
    await wait_until(lambda: drained(outbox), limit_s=15, what="the first events to be sent")

    await kafka.stop()
    during = await record(outbox, keys, 5, seed=2)
    await wait_until(
        lambda: running.relay.stats.in_flight > 0, limit_s=10, what="events handed to Kafka"
    )
    late = await record(outbox, keys, 5, seed=3)
    assert await pending(outbox) == 100  # recorded and waiting: none marked without an ack
    assert not running.task.done()
    await kafka.start()
    await wait_until(lambda: drained(outbox), limit_s=60, what="the backlog to drain")

    records = await tail.read(keys)
    assert ids_per_key(records) == merged(before, during, late)
    # The in-flight batch was delivered by the same producer's retries, not sent again.
    assert running.relay.stats.producer_starts == 1
    assert running.relay.stats.delivery_failures == 0
    assert all(row.attempts == 1 for row in (await rows(outbox)).values())


@pytest.mark.stack
async def test_a_relay_started_while_kafka_is_down_waits_for_it(
    outbox: Sessions, relays: StartRelay, tail: Tail, kafka: KafkaSwitch
) -> None:
    keys = new_keys(8)
    await kafka.stop()
    recorded = await record(outbox, keys, 5)
    running = relays(max_backoff=0.5)
    await wait_until(
        lambda: running.relay.stats.retries >= 3, limit_s=15, what="attempts to reach Kafka"
    )
    assert await pending(outbox) == 40
    assert not running.task.done()

    await kafka.start()
    await wait_until(lambda: drained(outbox), limit_s=30, what="the backlog to drain")

    assert ids_per_key(await tail.read(keys)) == recorded
    assert running.relay.stats.producer_starts == 1


async def test_the_relay_command_publishes_a_sqlite_outbox_until_sigterm(
    tmp_path: Path, settings: Settings, tail: Tail
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/broker.db"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    keys = new_keys(4)
    env = os.environ | {
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers or "",
        "OUTBOX_POLL_INTERVAL": "0.05",
    }
    first = await record(sessions, keys, 5)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cdo_cli", "relay", env=env, cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await wait_until(lambda: drained(sessions), limit_s=30, what="the relay command to publish")
        # Committed by another process: the relay finds these by polling.
        second = await record(sessions, keys, 2, seed=2)
        started = time.monotonic()
        await wait_until(lambda: drained(sessions), limit_s=10, what="polling to find new events")
        assert time.monotonic() - started < 1.0

        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), timeout=20)
        assert process.returncode == 0, err.decode()
        assert b"Traceback" not in err, err.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await engine.dispose()

    assert ids_per_key(await tail.read(keys)) == merged(first, second)
