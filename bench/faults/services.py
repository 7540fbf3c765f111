"""The processes under test (two `cdo-broker serve`, the notifiers) and the run's own helpers
(load, CDO systems): started, killed with SIGKILL and started again under the same name, port and
log file, and stopped at the end."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.processes import VENV_BIN, answers

Check = Callable[[], Awaitable[bool]]


async def wait_until(check: Check, *, limit_s: float, what: str, poll_s: float = 0.2) -> None:
    deadline = time.monotonic() + limit_s
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {limit_s:.0f}s waiting for {what}")
        await asyncio.sleep(poll_s)


@dataclass
class Service:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    log: Path
    ready_url: str | None = None
    process: asyncio.subprocess.Process | None = None
    starts: int = 0
    kills: int = 0
    events: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self, ready_s: float = 90) -> None:
        # Appended to: a restart's log follows the killed process's.
        with self.log.open("ab") as out:
            out.write(f"\n=== start {self.starts + 1} at {time.strftime('%X')} ===\n".encode())
            out.flush()
            self.process = await asyncio.create_subprocess_exec(
                *self.argv, env=dict(self.env), stdout=out, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C of the run reaches it only through stop()
            )  # fmt: skip
        self.starts += 1
        if self.ready_url is not None:
            url = self.ready_url

            async def up() -> bool:
                if not self.running:
                    raise RuntimeError(f"{self.name} exited at start; see {self.log}")
                return await answers(url)

            await wait_until(up, limit_s=ready_s, what=f"{self.name} to answer {url}")

    async def kill9(self) -> None:
        """SIGKILL, as a crashed machine or the OOM killer would: no clean-up runs."""
        if self.process is None or not self.running:
            raise RuntimeError(f"{self.name} is not running, so it cannot be killed")
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.kills += 1

    async def stop(self, grace_s: float = 20) -> None:
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


def cli(*args: str) -> list[str]:
    return [str(VENV_BIN / "cdo-broker"), *args]


def module(name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", name, *args]
