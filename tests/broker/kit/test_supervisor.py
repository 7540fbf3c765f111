"""The supervisor every background loop runs under, with fake turns, clock and counter: failures
are retried after a capped, jittered backoff and counted; stop and cancellation end it; health
says what the loop is doing."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import re
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.exc import DBAPIError

from core.metrics import gauges
from core.supervisor import Backoff, LoopHealth, NoProgress, State, Supervisor, describe
from testing.waiting import wait_until

TINY = Backoff(first_s=0.001, cap_s=0.004)


class FakeCounter:
    def __init__(self) -> None:
        self.added: list[tuple[int, dict[str, str]]] = []

    def add(self, amount: int, attributes: dict[str, str]) -> None:
        self.added.append((amount, attributes))


class Script:
    """A turn that plays `outcomes` in order (an exception is raised, a float is the rest) and
    sets `stop` after the last one."""

    def __init__(self, stop: asyncio.Event, *outcomes: float | Exception) -> None:
        self.stop = stop
        self.outcomes = list(outcomes)
        self.turns = 0

    async def __call__(self) -> float:
        self.turns += 1
        outcome = self.outcomes.pop(0)
        if not self.outcomes:
            self.stop.set()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def supervisor(
    counter: FakeCounter | None = None,
    *,
    on_failure: Callable[[Exception], Awaitable[None]] | None = None,
    backoff: Backoff = TINY,
) -> Supervisor:
    return Supervisor(
        "test-loop",
        backoff=backoff,
        on_failure=on_failure,
        rng=random.Random(7),
        restarts=counter or FakeCounter(),
    )


def test_backoff_doubles_up_to_its_cap_with_jitter_between_half_and_all() -> None:
    backoff = Backoff(first_s=0.5, cap_s=10.0)
    rng = random.Random(1)
    for failures, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (5, 8.0), (6, 10.0), (500, 10.0)]:
        delays = [backoff.delay(failures, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered: replicas do not retry in step


async def test_failed_turns_are_retried_counted_and_handed_to_on_failure() -> None:
    stop = asyncio.Event()
    counter = FakeCounter()
    cleaned: list[str] = []

    async def on_failure(exc: Exception) -> None:
        cleaned.append(str(exc))

    turn = Script(stop, RuntimeError("one"), ConnectionError("two"), 0.0)
    loop = supervisor(counter, on_failure=on_failure)
    await asyncio.wait_for(loop.run(turn, stop), 5)

    assert turn.turns == 3
    assert cleaned == ["one", "two"]
    assert counter.added == [(1, {"loop": "test-loop"})] * 2
    health = loop.health
    assert (health.restarts, health.failures) == (2, 0)  # the last turn succeeded
    assert health.last_error == "ConnectionError: two"
    assert health.last_success_at is not None
    assert health.state is State.stopped


async def test_consecutive_failures_grow_the_backoff_and_a_success_resets_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    turn = Script(stop, NoProgress("a"), NoProgress("b"), 0.0, NoProgress("c"), 0.0)
    loop = supervisor()
    with caplog.at_level(logging.WARNING, logger="core.supervisor"):
        await asyncio.wait_for(loop.run(turn, stop), 5)
    in_a_row = [re.search(r"failure (\d+) in a row", r.getMessage()) for r in caplog.records]
    assert [int(m.group(1)) for m in in_a_row if m] == [1, 2, 1]


async def test_an_outage_is_a_warning_and_anything_else_an_error_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    turn = Script(stop, OSError("connection refused"), KeyError("bug"), 0.0)
    with caplog.at_level(logging.WARNING, logger="core.supervisor"):
        await asyncio.wait_for(supervisor().run(turn, stop), 5)
    outage, bug = caplog.records
    assert (outage.levelno, outage.exc_info) == (logging.WARNING, None)
    assert bug.levelno == logging.ERROR
    assert bug.exc_info is not None
    assert isinstance(bug.exc_info[1], KeyError)


async def test_a_failing_cleanup_does_not_end_the_loop() -> None:
    stop = asyncio.Event()

    async def broken(_: Exception) -> None:
        raise RuntimeError("cannot close")

    turn = Script(stop, RuntimeError("turn"), 0.0)
    await asyncio.wait_for(supervisor(on_failure=broken).run(turn, stop), 5)
    assert turn.turns == 2


@pytest.mark.parametrize(
    ("outcome", "waiting"),
    [(RuntimeError("fails"), State.backing_off), (math.inf, State.resting)],
)
async def test_stop_cuts_a_long_backoff_or_rest_short(
    outcome: float | Exception, waiting: State
) -> None:
    stop = asyncio.Event()
    turn = Script(stop, outcome, 0.0)
    loop = supervisor(backoff=Backoff(first_s=3600, cap_s=3600))
    running = asyncio.create_task(loop.run(turn, stop))
    await wait_until(lambda: loop.health.state is waiting, limit_s=5, what=str(waiting))
    stop.set()
    await asyncio.wait_for(running, 5)
    assert turn.turns == 1


async def test_wake_ends_a_rest_at_once_and_is_cleared() -> None:
    stop, wake = asyncio.Event(), asyncio.Event()
    turn = Script(stop, math.inf, math.inf, 0.0)
    loop = supervisor()
    running = asyncio.create_task(loop.run(turn, stop, wake=wake))
    for expected_turns in (1, 2):
        await wait_until(
            lambda n=expected_turns: turn.turns == n and loop.health.state is State.resting,
            limit_s=5,
            what=f"rest after turn {expected_turns}",
        )
        assert not wake.is_set()
        wake.set()
    await asyncio.wait_for(running, 5)
    assert turn.turns == 3


async def test_cancellation_goes_through_and_leaves_it_stopped() -> None:
    entered = asyncio.Event()

    async def hangs() -> float:
        entered.set()
        await asyncio.Event().wait()
        return 0.0

    loop = supervisor()
    running = asyncio.create_task(loop.run(hangs, asyncio.Event()))
    await asyncio.wait_for(entered.wait(), 5)
    assert loop.health.state is State.turning
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert loop.health.state is State.stopped
    assert "test-loop" not in gauges.loop_success


async def test_the_success_gauge_follows_the_loop_while_it_runs() -> None:
    stop = asyncio.Event()
    seen: list[bool] = []

    async def turn() -> float:
        seen.append("test-loop" in gauges.loop_success)
        stop.set()
        return 0.0

    await asyncio.wait_for(supervisor().run(turn, stop), 5)
    assert seen == [True]
    assert "test-loop" not in gauges.loop_success


def test_health_is_stalled_only_when_stuck_in_a_turn_or_stopped() -> None:
    health = LoopHealth("x", state=State.turning, since=100.0)
    assert not health.stalled(now=159.0, limit_s=60)
    assert health.stalled(now=161.0, limit_s=60)
    for calm in (State.resting, State.backing_off, State.starting):
        assert not LoopHealth("x", state=calm, since=0.0).stalled(now=1e6, limit_s=60)
    assert LoopHealth("x", state=State.stopped, since=100.0).stalled(now=100.0, limit_s=60)
    report = LoopHealth("x", state=State.resting, since=10.0, last_success_at=9.0).report(12.0)
    assert report == {
        "state": "resting",
        "seconds_in_state": 2.0,
        "seconds_since_success": 3.0,
        "restarts": 0,
        "last_error": None,
    }


def test_a_database_error_is_described_by_the_driver_without_statement_or_parameters() -> None:
    cut = DBAPIError(
        "INSERT INTO t VALUES (:secret)", {"secret": "s3cr3t"}, OSError("closed\nmore")
    )
    assert describe(cut) == "DBAPIError: closed"
    assert describe(KeyError("bug")) == "KeyError: 'bug'"
