"""Starting, watching and stopping the processes a bench measures."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_for(check: Callable[[], Awaitable[bool]], *, limit_s: float, what: str) -> None:
    deadline = time.monotonic() + limit_s
    while not await check():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: gave up after {limit_s:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)


async def answers(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2, trust_env=False) as http:  # local servers
            return (await http.get(url)).status_code == 200
    except httpx.TransportError:
        return False


@dataclass
class Running:
    name: str
    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


@asynccontextmanager
async def running(
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    log_dir: Path,
    *,
    ready_url: str | None = None,
    ready: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncIterator[Running]:
    """A process with its output in `log_dir/<name>.log`, stopped with SIGTERM on exit."""
    log = log_dir / f"{name}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *argv, env=dict(env), stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    proc = Running(name, process, log)
    try:
        if ready_url is not None:
            await _ready(proc, lambda: answers(ready_url))
        if ready is not None:
            await _ready(proc, ready)
        yield proc
    finally:
        await stop(proc)


async def _ready(proc: Running, check: Callable[[], Awaitable[bool]]) -> None:
    async def up() -> bool:
        if proc.process.returncode is not None:
            raise SystemExit(f"bench: {proc.name} exited early; see {proc.log}")
        return await check()

    await wait_for(up, limit_s=60, what=proc.name)


async def stop(proc: Running, grace_s: float = 15) -> None:
    if proc.process.returncode is not None:
        return
    proc.process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.process.wait(), grace_s)
    except TimeoutError:
        proc.process.kill()
        await proc.process.wait()


def broker_argv(port: int) -> list[str]:
    """The broker as production runs it (deploy/k8s: `cdo-broker serve`)."""
    return [str(VENV_BIN / "cdo-broker"), "serve", "--host", "127.0.0.1", "--port", str(port)]


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
