"""py-spy profiles of a running server, summarised as the functions that cost the most."""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path

from testing.processes import VENV_BIN

PROJECT = ("broker", "notifier")  # py-spy names files from their package down


async def record(pid: int, seconds: int, out: Path, *, gil: bool = False) -> Path:
    """Collapsed stacks ("raw" format) of `pid` sampled for `seconds`, in `out`; with `gil`, only
    the samples of a thread holding the GIL (time waiting on sockets left out)."""
    process = await asyncio.create_subprocess_exec(
        str(VENV_BIN / "py-spy"),
        "record",
        *(["--gil"] if gil else []),
        "--pid",
        str(pid),
        "--duration",
        str(seconds),
        "--rate",
        "200",
        "--format",
        "raw",
        "--nonblocking",
        "--output",
        str(out),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"bench: py-spy failed: {err.decode()}")
    return out


def add_option(parser: argparse.ArgumentParser, help: str) -> None:
    """`--profile S` (0, the default: no profile); `help` says what S seconds of py-spy record."""
    parser.add_argument("--profile", type=int, default=0, metavar="S", help=help)


async def under_load(pid: int, seconds: int, out: Path, load: Awaitable[object]) -> str:
    """Records `pid` while `load` runs (started first, given a second to reach its pace), and
    returns the summary, also written next to `out`."""
    running = asyncio.ensure_future(load)
    await asyncio.sleep(1)
    await record(pid, seconds, out)
    await running
    summary = summarise(out)
    out.with_suffix(".summary.txt").write_text(summary + "\n")
    return summary


def _frames(stack: str, *, project_only: bool = False) -> list[str]:
    # "fn (/path/module.py:12);fn2 (...)": keep "fn (dir/module.py)" without the line number
    frames = []
    for frame in stack.split(";"):
        name, _, where = frame.partition(" (")
        path = where.rsplit(":", 1)[0]
        if project_only and path.split("/")[0] not in PROJECT:
            continue
        short = "/".join(path.split("/")[-3:])
        frames.append(f"{name} ({short})")
    return frames


def summarise(collapsed: Path, top: int = 25) -> str:
    """Inclusive and self shares of the samples, per function, the top ones first."""
    inclusive: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for row in collapsed.read_text().splitlines():
        stack, _, count_text = row.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = _frames(stack)
        for frame in set(frames):
            inclusive[frame] += count
        for frame in set(_frames(stack, project_only=True)):
            ours[frame] += count
        own[frames[-1]] += count
    if not total:
        return "no samples"
    lines = [f"{total} samples; inclusive share (self share), top {top} by inclusive:"]
    for frame, count in inclusive.most_common(top):
        lines.append(f"  {100 * count / total:5.1f}% ({100 * own[frame] / total:4.1f}%)  {frame}")
    lines.append(f"the project's own functions, top {top} by inclusive share:")
    for frame, count in ours.most_common(top):
        lines.append(f"  {100 * count / total:5.1f}%  {frame}")
    lines.append(f"top {top} by self time:")
    for frame, count in own.most_common(top):
        lines.append(f"  {100 * count / total:5.1f}%  {frame}")
    return "\n".join(lines)
