"""`bench/scale`: the pilot with no history against the province with years of it, in one run.

Prints each measure of issue 19 for both, side by side, and exits 1 naming every goal the
province misses. See docs/BENCHMARKS.md (*bench/scale*).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable

from bench import report
from bench.scale_measures import archive, audit_verify, call_figures, calls, operations, side
from bench.scale_setup import pilot_environment, province_environment

# (measure, goal as words, check(province, baseline))
Check = Callable[[float, float], bool]
GOALS: tuple[tuple[str, str, Check], ...] = (
    ("filing p99 ms", "within 1.2x of the baseline", lambda p, b: p <= 1.2 * b),
    ("filing CPU ms", "within 1.2x of the baseline", lambda p, b: p <= 1.2 * b),
    ("queue p99 ms (busy CDO)", "<= 50 ms and within 1.5x", lambda p, b: p <= min(50, 1.5 * b)),
    (
        "queue p99 ms (quiet CDO)",
        "<= 50 ms and within 1.5x of a page as full on the pilot",
        lambda p, b: p <= min(50, 1.5 * b),
    ),
    ("timeline p99 ms", "<= 50 ms and within 1.5x", lambda p, b: p <= min(50, 1.5 * b)),
    ("report 1 year ms (province)", "<= 2 s", lambda p, b: p <= 2000),
    ("scorecard 1 year ms (province)", "<= 2 s", lambda p, b: p <= 2000),
    ("directory cache MiB", "<= 50 MiB", lambda p, b: p <= 50),
    ("directory rebuild ms", "<= 1 s after a change", lambda p, b: p <= 1000),
    (
        "audit verify peak RSS MiB",
        "constant memory (<= baseline + 32 MiB)",
        lambda p, b: p <= b + 32,
    ),
    ("sent outbox rows past retention", "0: archived", lambda p, b: p == 0),
    ("delivered deliveries past retention", "0: archived", lambda p, b: p == 0),
)


async def main(opts: argparse.Namespace) -> int:
    started = time.perf_counter()
    pilot = await pilot_environment()
    province, setup = await province_environment(
        requests=opts.requests, years=opts.years, seed=opts.seed, reuse=opts.reuse
    )
    async with side(pilot) as base, side(province) as big:
        archived_before = None
        if not opts.no_archive:
            setup["archive s"], archived_before = await archive(big)
        await calls([base, big], filings=opts.filings, reads=opts.reads, rounds=opts.rounds)
        baseline = call_figures(base) | await operations(base)
        scaled = call_figures(big) | await operations(big, archived_before)
    baseline |= audit_verify(pilot)
    scaled |= audit_verify(province)
    print(
        f"\nbench/scale: history of {opts.requests:,} requests over {opts.years:g} years "
        f"({'reused' if not setup else ', '.join(f'{k} {v:,.1f}' for k, v in setup.items())})"
    )
    print(f"{'measure':44} {'pilot, empty':>14} {'province':>14} {'ratio':>7}")
    for name in baseline:
        b, p = baseline[name], scaled[name]
        ratio = f"{p / b:.2f}" if b else "-"
        print(f"{name:44} {b:14,.1f} {p:14,.1f} {ratio:>7}")
    against = _baselines(baseline, scaled)
    for name, (figure, source) in against.items():
        print(f"{name} against {source}: {figure:,.1f} ms, ratio {scaled[name] / figure:.2f}")
    missed = [
        f"{name}: {scaled[name]:,.1f} against {against.get(name, (baseline[name],))[0]:,.1f} "
        f"(goal {goal})"
        for name, goal, met in GOALS
        if not met(scaled[name], against.get(name, (baseline[name],))[0])
    ]
    machine = report.machine()
    print(
        f"load average {machine['load_average_at_end']}, CPU {machine['cpu_pressure_at_end']}, "
        f"{time.perf_counter() - started:,.0f} s in all"
    )
    report.save(
        "scale",
        {
            "requests": opts.requests,
            "setup": setup,
            "pilot": baseline,
            "province": scaled,
            "missed": missed,
            "machine": machine,
        },
    )
    for line in missed:
        print(f"MISSED {line}", file=sys.stderr)
    return 1 if missed else 0


def _baselines(pilot: dict[str, float], province: dict[str, float]) -> dict[str, tuple[float, str]]:
    """Where a measure's own pilot figure is not a baseline for it: the quiet CDO's queue. On
    the pilot it holds no request (the pilot's county government has no department or dataset
    a filing could route to it), so its figure is an empty page's; a page's cost is then judged
    against the pilot's page of as many requests, the busy CDO's."""
    quiet, busy = "queue page requests (quiet CDO)", "queue page requests (busy CDO)"
    if pilot[quiet] >= province[quiet] or pilot[busy] < province[quiet]:
        return {}
    source = f"the pilot's busy CDO ({pilot[busy]:.0f} requests a page)"
    return {
        f"queue p{n} ms (quiet CDO)": (pilot[f"queue p{n} ms (busy CDO)"], source) for n in (50, 99)
    }


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000, help="history size")
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--filings", type=int, default=3000, help="filings measured on each")
    parser.add_argument("--reads", type=int, default=1000, help="queue and timeline reads")
    parser.add_argument("--rounds", type=int, default=4, help="alternating slices of the calls")
    parser.add_argument(
        "--no-archive", action="store_true", help="measure without archiving first (the before)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the province database of an earlier run"
    )
    sys.exit(asyncio.run(main(parser.parse_args())))


if __name__ == "__main__":
    cli()
