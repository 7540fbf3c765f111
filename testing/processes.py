"""Real processes on loopback: free ports, `cdo-broker` commands and servers started, killed with
SIGKILL, started again under the same name and log, and stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from testing import REPO_ROOT
from testing.waiting import wait_until

VENV_BIN = Path(sys.executable).parent
Check = Callable[[], Awaitable[bool]]


def free_port() -> int:
    """A loopback port nothing listens on right now (for a process to bind, or to find closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_run(count: int) -> int:
    """The first of `count` consecutive loopback ports nothing listens on right now."""
    for _ in range(100):
        with ExitStack() as held:  # held until all are checked, so the kernel hands none out
            first = held.enter_context(socket.socket())
            first.bind(("127.0.0.1", 0))
            base = int(first.getsockname()[1])
            try:
                for port in range(base + 1, base + count):
                    held.enter_context(socket.socket()).bind(("127.0.0.1", port))
            except (OSError, OverflowError):  # taken, or past the last port
                continue
            return base
    raise AssertionError(f"found no {count} consecutive free ports")


async def answers(url: str) -> bool:
    """Whether `url` answers 200 now."""
    try:
        async with httpx.AsyncClient(timeout=2, trust_env=False) as http:  # local servers
            return (await http.get(url)).status_code == 200
    except httpx.TransportError:
        return False


def cli(*args: str) -> list[str]:
    """The `cdo-broker` console script, as production runs it."""
    return [str(VENV_BIN / "cdo-broker"), *args]


def module(name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", name, *args]


def broker_argv(port: int) -> list[str]:
    """The broker as production runs it (deploy/k8s: `cdo-broker serve`)."""
    return cli("serve", "--host", "127.0.0.1", "--port", str(port))


def cdo_broker(
    *args: str, database_url: str, cwd: Path = REPO_ROOT, timeout_s: float = 120
) -> subprocess.CompletedProcess[str]:
    """One `cdo-broker` command (`python -m cdo_cli`) on `database_url`, its output captured."""
    env = os.environ | {"DATABASE_URL": database_url}
    env.pop("MIGRATION_DATABASE_URL", None)  # the stack's demo database: never the one meant
    return subprocess.run(
        [sys.executable, "-m", "cdo_cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@dataclass
class Service:
    """A process started (and started again) under one name, with its output appended to `log`
    (or dropped), ready once `ready_url` answers 200 and `ready` holds."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    log: Path | None = None
    ready_url: str | None = None
    ready: Check | None = None
    process: asyncio.subprocess.Process | None = None
    starts: int = 0
    kills: int = 0
    events: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    async def start(self, ready_s: float = 90) -> None:
        if self.log is None:
            self.process = await self._spawn(subprocess.DEVNULL)
        else:
            # Appended to: a restart's log follows the killed process's.
            with self.log.open("ab") as out:
                out.write(f"\n=== start {self.starts + 1} at {time.strftime('%X')} ===\n".encode())
                out.flush()
                self.process = await self._spawn(out.fileno())
        self.starts += 1
        checks = [c for c in (self._answering, self.ready) if c is not None]
        if checks:

            async def up() -> bool:
                if not self.running:
                    raise RuntimeError(f"{self.name} exited at start; see {self.log}")
                return all([await check() for check in checks])

            await wait_until(up, limit_s=ready_s, what=f"{self.name} to be ready")

    async def _spawn(self, out: int) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            *self.argv, env=dict(self.env), stdout=out, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C of the caller reaches it only through stop()
        )  # fmt: skip

    @property
    def _answering(self) -> Check | None:
        url = self.ready_url
        return None if url is None else lambda: answers(url)

    async def kill9(self) -> None:
        """SIGKILL, as a crashed machine or the OOM killer would: no clean-up runs."""
        if self.process is None or not self.running:
            raise RuntimeError(f"{self.name} is not running, so it cannot be killed")
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.kills += 1

    async def stop(self, grace_s: float = 20) -> None:
        """SIGTERM, then SIGKILL after `grace_s`."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGKILL)
            await process.wait()


@asynccontextmanager
async def running(
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    log_dir: Path | None = None,
    *,
    ready_url: str | None = None,
    ready: Check | None = None,
    ready_s: float = 60,
) -> AsyncIterator[Service]:
    """A process with its output in `log_dir/<name>.log` (or dropped), stopped on exit."""
    log = None if log_dir is None else log_dir / f"{name}.log"
    if log is not None:
        log.unlink(missing_ok=True)
    service = Service(name, argv, env, log, ready_url=ready_url, ready=ready)
    try:
        await service.start(ready_s)
        yield service
    finally:
        await service.stop(grace_s=15)


@asynccontextmanager
async def serving_broker(env: Mapping[str, str], port: int) -> AsyncIterator[Service]:
    """A real `cdo-broker serve` process on `port`, once it answers /healthz; stopped after."""
    argv = module("cdo_cli", "serve", "--port", str(port))
    ready_url = f"http://127.0.0.1:{port}/healthz"
    async with running("broker", argv, env, ready_url=ready_url, ready_s=30) as broker:
        yield broker
