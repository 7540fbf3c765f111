"""Running wrk (the load tool of the HTTP benches) with one of bench/lua's scripts."""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LUA = Path(__file__).resolve().parent / "lua"


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    ok: int  # answers with the expected status
    not_ok: int
    socket_errors: int
    timeouts: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    first_error: str

    @property
    def rate(self) -> float:
        """Successful answers per second."""
        return self.ok / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "per_s": round(self.rate, 1),
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "ok": self.ok,
            "not_ok": self.not_ok,
            "socket_errors": self.socket_errors,
            "timeouts": self.timeouts,
            "first_error": self.first_error,
        }


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("bench: wrk is missing (the bench/ commands install it with apt-get)")
    return found


async def run_wrk(
    url: str,
    script: str,
    script_args: list[str],
    *,
    seconds: int,
    connections: int,
    threads: int = 1,
) -> WrkResult:
    process = await asyncio.create_subprocess_exec(
        wrk_binary(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA / script),
        url,
        "--",
        *script_args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise SystemExit(f"bench: wrk failed ({process.returncode}): {err.decode()}{out.decode()}")
    figures = json.loads(lines[-1])
    return WrkResult(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        ok=figures["ok"],
        not_ok=figures["not_ok"],
        socket_errors=figures["socket_errors"],
        timeouts=figures["timeouts"],
        p50_ms=figures["p50_us"] / 1000,
        p95_ms=figures["p95_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        first_error=figures["first_error"],
    )
