from __future__ import annotations

import asyncio

import httpx
import pytest

from notifier.delivery import Attempt, EndpointTarget, Outcome, OutgoingEvent, deliver_once
from notifier.limits import EndpointLimiter
from notifier.signing import generate_secret
from tests.notifier.conftest import Receiver
from tests.waiting import wait_until


def test_the_limit_is_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        EndpointLimiter(0)


async def test_a_slow_endpoint_delays_only_its_own_deliveries(
    http: httpx.AsyncClient, receiver: Receiver, other_receiver: Receiver
) -> None:
    limiter = EndpointLimiter(2)
    slow = EndpointTarget("ep_slow", receiver.url, (generate_secret(),))
    fast = EndpointTarget("ep_fast", other_receiver.url, (generate_secret(),))
    release = receiver.hang()

    async def deliver(target: EndpointTarget, n: int) -> Attempt:
        async with limiter.slot(target.id):
            outgoing = OutgoingEvent.from_payload(f"msg_{target.id}_{n}", {"n": n})
            return await deliver_once(http, target, outgoing, timeout_s=5, allow_private=True)

    async with asyncio.TaskGroup() as group:
        slow_tasks = [group.create_task(deliver(slow, n)) for n in range(3)]
        await receiver.wait_for(2)
        await wait_until(lambda: limiter.waiting("ep_slow") == 1, limit_s=2, what="a 3rd waiting")

        fast_attempts = await asyncio.gather(*(deliver(fast, n) for n in range(3)))

        assert [a.outcome for a in fast_attempts] == [Outcome.delivered] * 3
        assert len(other_receiver.requests) == 3
        assert len(receiver.requests) == 2  # the slow endpoint's 3rd is still held back
        assert (limiter.in_flight("ep_slow"), limiter.waiting("ep_slow")) == (2, 1)
        release.set()

    assert [t.result().outcome for t in slow_tasks] == [Outcome.delivered] * 3
    assert len(receiver.requests) == 3
    assert len(limiter) == 0  # idle endpoints leave nothing behind


async def test_a_cancelled_waiter_gives_its_place_up() -> None:
    limiter = EndpointLimiter(1)
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with limiter.slot("ep"):
            holding.set()
            await release.wait()

    async def wait_in_line() -> None:
        async with limiter.slot("ep"):
            raise AssertionError("entered although the slot was taken")

    holder = asyncio.create_task(hold())
    await holding.wait()
    waiter = asyncio.create_task(wait_in_line())
    await wait_until(lambda: limiter.waiting("ep") == 1, limit_s=2, what="the waiter in line")
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert limiter.waiting("ep") == 0
    release.set()
    await holder
    assert len(limiter) == 0
