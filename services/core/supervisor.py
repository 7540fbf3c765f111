"""One way every background loop runs: the outbox relay and backlog sampler, the SLA job, and
the notifier's consumer, delivery worker and recorder.

A loop is a `turn` the supervisor calls until `stop` is set. A turn does one piece of work and
answers how long to rest before the next (0: at once; `wake`, if given, cuts a rest short). A
turn that raises is logged, counted (`cdo_loop_restarts_total{loop}`), handed to `on_failure`
(to drop a broken connection or client) and tried again after a backoff that doubles up to a
cap, with jitter so that replicas hit by the same outage do not come back in step. An outage
(Kafka or PostgreSQL away) is a warning without a traceback; anything else keeps its
traceback, as a bug or misconfiguration rarely mends itself. It is retried all the same: a
loop that exits stops its work until someone restarts the process, which is worse than
trying again.

`stop` ends the loop between turns and cuts a rest or a backoff short; a turn that must finish
something first watches `stop` itself. Cancellation goes straight through. Each loop's
`LoopHealth` says what it is doing, since when, and when a turn last succeeded: the notifier's
`/healthz` and the `cdo_loop_last_success_age_seconds{loop}` gauge read it.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError

from core.db import database_unavailable
from core.metrics import gauges, instruments

logger = logging.getLogger(__name__)

Turn = Callable[[], Awaitable[float]]


class NoProgress(Exception):
    """Raised by a turn that moved nothing and should back off (its cause is logged already or
    named in the message): a warning, no traceback."""


def is_outage(exc: BaseException) -> bool:
    """A dependency away rather than a bug: retrying later is all there is to do."""
    return isinstance(exc, OSError | TimeoutError | KafkaError | NoProgress) or (
        database_unavailable(exc)
    )


def describe(exc: BaseException) -> str:
    """`Type: first line`; for a database error the driver's words, without SQLAlchemy's
    statement and parameters (a batch's parameters are long, and /healthz shows this)."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:300]


@dataclass(frozen=True)
class Backoff:
    first_s: float = 0.1
    cap_s: float = 10.0

    def delay(self, failures: int, rng: random.Random) -> float:
        """Seconds to wait after the `failures`-th failure in a row: doubling from `first_s`
        up to `cap_s`, of which a random half to all is taken ("equal jitter": never zero, so a
        failing loop cannot spin, and spread, so replicas do not retry together)."""
        ceiling = min(self.cap_s, self.first_s * 2.0 ** min(max(failures, 1) - 1, 30))
        return ceiling * rng.uniform(0.5, 1.0)


class State(enum.StrEnum):
    starting = "starting"
    turning = "turning"
    resting = "resting"
    backing_off = "backing_off"
    stopped = "stopped"


@dataclass
class LoopHealth:
    """Times are `time.monotonic()` seconds (the supervisor's clock)."""

    name: str
    state: State = State.starting
    since: float = 0.0  # when the state began
    last_success_at: float | None = None
    failures: int = 0  # failed turns in a row
    restarts: int = 0  # failed turns since the loop started
    last_error: str | None = None

    def stalled(self, now: float, limit_s: float) -> bool:
        """In one turn for longer than `limit_s` (stuck), or not running any more."""
        if self.state is State.stopped:
            return True
        return self.state is State.turning and now - self.since > limit_s

    def report(self, now: float) -> dict[str, Any]:
        since_success = None if self.last_success_at is None else now - self.last_success_at
        return {
            "state": self.state.value,
            "seconds_in_state": round(now - self.since, 1),
            "seconds_since_success": None if since_success is None else round(since_success, 1),
            "restarts": self.restarts,
            "last_error": self.last_error,
        }


class RestartCounter(Protocol):
    def add(self, amount: int, attributes: dict[str, str]) -> None: ...


class Supervisor:
    def __init__(
        self,
        name: str,
        *,
        backoff: Backoff | None = None,
        on_failure: Callable[[Exception], Awaitable[None]] | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        restarts: RestartCounter | None = None,
    ) -> None:
        self.backoff = backoff or Backoff()
        self.health = LoopHealth(name, since=clock())
        self._on_failure = on_failure
        self._rng = rng or random.Random()
        self._clock = clock
        self._restarts = restarts

    @property
    def name(self) -> str:
        return self.health.name

    async def run(
        self, turn: Turn, stop: asyncio.Event, *, wake: asyncio.Event | None = None
    ) -> None:
        """Turn until `stop` is set. Never raises but for cancellation (and BaseExceptions)."""
        gauges.loop_success[self.name] = self._clock()  # its age counts from the start
        try:
            while not stop.is_set():
                self._enter(State.turning)
                try:
                    rest = await turn()
                except Exception as exc:
                    delay = await self._failed(exc)
                    self._enter(State.backing_off)
                    await _rest(stop, None, delay)
                    continue
                self._succeeded()
                if rest > 0 and not stop.is_set():
                    self._enter(State.resting)
                    await _rest(stop, wake, rest)
        finally:
            self._enter(State.stopped)
            gauges.loop_success.pop(self.name, None)

    def _enter(self, state: State) -> None:
        self.health.state = state
        self.health.since = self._clock()

    def _succeeded(self) -> None:
        now = self._clock()
        self.health.last_success_at = now
        self.health.failures = 0
        gauges.loop_success[self.name] = now

    async def _failed(self, exc: Exception) -> float:
        """Logs, counts and cleans up after `exc`; answers the backoff before the next turn."""
        health = self.health
        health.failures += 1
        health.restarts += 1
        health.last_error = describe(exc)
        (self._restarts or instruments().loop_restarts).add(1, {"loop": self.name})
        delay = self.backoff.delay(health.failures, self._rng)
        outage = is_outage(exc)
        logger.log(
            logging.WARNING if outage else logging.ERROR,
            "%s: %s (failure %d in a row); trying again in %.1fs",
            self.name,
            health.last_error,
            health.failures,
            delay,
            exc_info=None if outage else exc,
        )
        if self._on_failure is not None:
            try:
                await self._on_failure(exc)
            except Exception:
                logger.exception("%s: cleaning up after the failure failed too", self.name)
        return delay


async def _rest(stop: asyncio.Event, wake: asyncio.Event | None, seconds: float) -> None:
    """Up to `seconds` (math.inf: no limit), less if `stop` or `wake` is set; clears `wake`."""
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    try:
        timeout = None if math.isinf(seconds) else seconds
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    if wake is not None:
        wake.clear()
