"""What a bench samples of the processes it measures: CPU time, peak resident set."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import psutil


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


@dataclass
class PeakRss:
    """Samples the resident set of some processes every `interval_s` until stopped."""

    pids: dict[str, int]
    interval_s: float = 0.1
    peak: dict[str, int] = field(default_factory=dict)
    last: dict[str, int] = field(default_factory=dict)

    def sample(self) -> None:
        for name, pid in self.pids.items():
            with contextlib.suppress(psutil.Error):
                rss = int(psutil.Process(pid).memory_info().rss)
                self.last[name] = rss
                self.peak[name] = max(rss, self.peak.get(name, 0))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)


@asynccontextmanager
async def sampling(pids: dict[str, int], interval_s: float = 0.1) -> AsyncIterator[PeakRss]:
    sampler = PeakRss(pids, interval_s)
    done = asyncio.Event()
    task = asyncio.create_task(sampler.run(done))
    try:
        yield sampler
    finally:
        done.set()
        await task
        sampler.sample()
