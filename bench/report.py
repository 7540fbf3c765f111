"""Printing a bench's figures next to its floor, and keeping them under .bench/results/."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from bench.environment import state_dir


def machine() -> dict[str, Any]:
    model = "unknown"
    with Path("/proc/cpuinfo").open() as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with Path("/proc/meminfo").open() as meminfo:
        total_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(total_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        # What else ran: the load and the share of time runnable tasks waited for a CPU.
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "cpu_pressure_at_end": _cpu_pressure(),
    }


def _cpu_pressure() -> str:
    try:
        return Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return "unknown"


def pressure() -> str:
    """What else the machine is doing now: the load averages and the share of the last 10 s in
    which some runnable task waited for a CPU (PSI "some avg10")."""
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    psi = _cpu_pressure()
    some = psi.split()[1].partition("=")[2] if psi.startswith("some") else "?"
    return f"load {load}, cpu pressure {some} %"


def ratio(figure: float, floor: float) -> float:
    return round(figure / floor, 3) if floor else 0.0


def line(label: str, figure: str, floor: str, ratio_text: str, *more: str) -> str:
    extra = "".join(f" {m:>14}" if i % 2 == 0 else f" {m:>8}" for i, m in enumerate(more))
    return f"  {label:<34} {figure:>14} {floor:>14} {ratio_text:>8}{extra}"


# The broker, its raw floor (bench/raw_floor.py: the least a faithful implementation does on
# this machine) and the app floor (bench/floor_app.py: the broker's own app with a bare route).
FLOOR_COLUMNS = ("broker", "raw floor", "ratio", "app floor", "ratio")


def header(title: str, columns: tuple[str, ...] = ("broker", "floor", "ratio")) -> None:
    print(f"\n{title}")
    print(line("", *columns))


def triple(label: str, broker: float, raw: float, app: float, *, lower: bool = False) -> str:
    """A figure of the broker and both floors, each ratio so that higher is better (`lower`: a
    figure where less is better, such as latency or CPU, is divided the other way round)."""

    def against(floor: float) -> str:
        return f"{ratio(floor, broker) if lower else ratio(broker, floor):.2f}"

    precision = ".1f" if lower else ",.0f"
    return line(
        label,
        f"{broker:{precision}}",
        f"{raw:{precision}}",
        against(raw),
        f"{app:{precision}}",
        against(app),
    )


def save(name: str, figures: dict[str, Any]) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = state_dir("results") / f"{name}-{stamp}.json"
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(f"\nfigures saved to {path}")
    return path


def mib(value: int) -> str:
    return f"{value / 1024 / 1024:.0f} MiB"
