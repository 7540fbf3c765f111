"""deploy/local/stack's three-node Kafka: a node killed mid-stream loses no acknowledged message.

The cluster runs in its own state dir on free ports and only Kafka starts (`start-kafka`): the
services of the default stack are neither used nor touched. `down` stops it whatever the outcome.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata

from testing.kafka import open_tail, partition_count
from testing.processes import free_port_run
from testing.stacks import own_kafka
from testing.waiting import wait_until

TOPIC = "datashare.requests"
NODES = 3
BATCH = 50  # messages in flight at once: the stream's pace is the cluster's own

pytestmark = [
    pytest.mark.stack,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        not (shutil.which("java") and shutil.which("mvn")),
        reason="the cluster runs from Kafka's Maven jars: needs java and mvn",
    ),
]


@dataclass
class Stream:
    """Numbered messages, one partition after the other, sent a batch at a time."""

    producer: AIOKafkaProducer
    partitions: int
    sent: int = 0
    acknowledged: list[int] = field(default_factory=list)
    failed: dict[int, BaseException] = field(default_factory=dict)

    async def send_batch(self) -> list[int]:
        numbers = range(self.sent, self.sent + BATCH)
        self.sent += BATCH
        futures = [
            await self.producer.send(
                TOPIC, key=str(n).encode(), value=str(n).encode(), partition=n % self.partitions
            )
            for n in numbers
        ]
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        for n, outcome in zip(numbers, outcomes, strict=True):
            if isinstance(outcome, RecordMetadata):
                self.acknowledged.append(n)
            else:
                self.failed[n] = outcome
        return [n for n in numbers if n not in self.failed]

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.send_batch()


@dataclass(frozen=True)
class Placement:
    leader: int
    replicas: list[int]
    isr: list[int]


async def placements(admin: AIOKafkaAdminClient) -> dict[int, Placement]:
    """Per partition of the topic: its leader, replicas and in-sync replicas, as Kafka sees them."""
    [topic] = await admin.describe_topics([TOPIC])
    return {
        p["partition"]: Placement(p["leader"], p["replicas"], p["isr"]) for p in topic["partitions"]
    }


async def topic_config(admin: AIOKafkaAdminClient, name: str) -> str:
    [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC)])
    [resource] = response.to_object()["resources"]
    [value] = [e["config_value"] for e in resource["config_entries"] if e["config_names"] == name]
    return str(value)


async def test_a_killed_node_loses_no_acknowledged_message(tmp_path: Path) -> None:
    async with own_kafka(tmp_path / "stack", free_port_run(2 * NODES), NODES) as cluster:
        # Without KAFKA_NODES: the state dir remembers it is a cluster.
        assert await cluster.running() == {f"kafka-{n}" for n in range(NODES)}

        admin = AIOKafkaAdminClient(bootstrap_servers=cluster.kafka_bootstrap)
        producer = AIOKafkaProducer(
            bootstrap_servers=cluster.kafka_bootstrap, acks="all", enable_idempotence=True
        )
        await admin.start()
        await producer.start()
        try:
            assert {len(p.replicas) for p in (await placements(admin)).values()} == {NODES}
            assert await topic_config(admin, "min.insync.replicas") == "2"
            victim = (await placements(admin))[0].leader  # so that a leader moves mid-stream

            async with open_tail(cluster.kafka_bootstrap, TOPIC) as tail:
                stream = Stream(producer, partition_count(TOPIC))
                stop = asyncio.Event()
                streaming = asyncio.create_task(stream.run(stop))
                try:
                    await wait_until(
                        lambda: len(stream.acknowledged) >= 10 * BATCH,
                        limit_s=60, what="the stream to get going",
                    )  # fmt: skip
                    await cluster.kill_kafka(victim)
                    killed_at = stream.sent

                    async def victim_out_of_every_isr() -> bool:
                        try:  # the admin client asks a random node, the dead one included
                            placed = await placements(admin)
                        except KafkaError:
                            return False
                        return all(
                            p.leader != victim
                            and sorted(p.isr) == sorted(set(p.replicas) - {victim})
                            for p in placed.values()
                        )

                    await wait_until(
                        victim_out_of_every_isr, limit_s=120, poll_s=0.5,
                        what=f"node {victim} to leave the ISRs",
                    )  # fmt: skip
                    await wait_until(
                        lambda: sum(n >= killed_at for n in stream.acknowledged) >= 4 * BATCH,
                        limit_s=120, what="the stream to go on after the kill",
                    )  # fmt: skip
                finally:
                    stop.set()
                    await streaming

                # Two in-sync replicas are min.insync.replicas: acks=all still succeeds.
                last = await stream.send_batch()
                assert len(last) == BATCH, f"refused with node {victim} down: {stream.failed}"

                records = await tail.read([str(n) for n in range(stream.sent)], within=60)
        finally:
            await producer.stop()
            await admin.close()

    copies = Counter(int(r.value) for r in records if r.value is not None)
    assert [n for n in stream.acknowledged if copies[n] != 1] == []
    assert [n for n, times in copies.items() if times > 1] == []
    # Every send is acknowledged: the producer's retries span the leaders' move.
    assert stream.failed == {}
