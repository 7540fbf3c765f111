"""deploy/local/stack in a state dir of its own, on ports of its own, for the tests that start
services the default stack does not run (a Kafka cluster, a Kafka with TLS and SASL, Jaeger):
the default stack's services are neither used nor touched."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

STACK = Path(__file__).resolve().parents[2] / "deploy" / "local" / "stack"
# What deploy/local/test started (and built) before the suite ran.
DEFAULT_STATE = Path(os.environ.get("CDO_STACK_DIR") or STACK.parents[2] / ".stack")


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


def borrow(state: Path, part: str, stamp: str) -> None:
    """Hard links to the default state dir's `part` (Kafka's jars, Jaeger's binary), if it has
    them with their `stamp`: `stack` checks them as it would its own, and skips a Maven run or a
    Go build."""
    source = DEFAULT_STATE / part
    if (source / stamp).is_file():
        shutil.copytree(source, state / part, copy_function=_link_or_copy)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)


async def run_stack(
    state: Path, *args: str, env: Mapping[str, str], check: bool = True, limit_s: float = 400
) -> str:
    """`stack args...` with `state` as its state dir and `env` on top of this process's; its
    stdout (the export lines)."""
    process = await asyncio.create_subprocess_exec(
        str(STACK), *args, env={**os.environ, "CDO_STACK_DIR": str(state), **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=limit_s)
    if check:
        assert process.returncode == 0, (
            f"stack {' '.join(args)}: exit {process.returncode}\n{err.decode(errors='replace')}"
        )
    return out.decode()


def exported(stdout: str) -> dict[str, str]:
    """The variables of `export NAME=value` lines (a single-quoted value unquoted)."""
    return {
        name: value.removeprefix("'").removesuffix("'")
        for name, value in re.findall(r"^export (\w+)=(.*)$", stdout, re.M)
    }
