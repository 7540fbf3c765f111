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


def ratio(figure: float, floor: float) -> float:
    return round(figure / floor, 3) if floor else 0.0


def line(label: str, figure: str, floor: str, ratio_text: str) -> str:
    return f"  {label:<34} {figure:>14} {floor:>14} {ratio_text:>8}"


def header(title: str, columns: tuple[str, str] = ("broker", "floor")) -> None:
    print(f"\n{title}")
    print(line("", *columns, "ratio"))


def save(name: str, figures: dict[str, Any]) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = state_dir("results") / f"{name}-{stamp}.json"
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(f"\nfigures saved to {path}")
    return path


def mib(value: int) -> str:
    return f"{value / 1024 / 1024:.0f} MiB"
