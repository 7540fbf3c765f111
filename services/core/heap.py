"""The process's long-lived objects, kept out of the cycle collector's full passes.

A broker process holds some 250,000 objects the collector tracks once it has started (the app,
its routes and pydantic schemas, SQLAlchemy's mappers, the modules; the province's directory
cache is about 10,000 of them), a notifier some 165,000, and they live as long as the process.
Each full (generation 2) collection walks them all: about 140 ms in the broker here, landing on
whichever request is running when it fires; 19-108 ms in a notifier (bench/e2e on a busy
machine, CPU pressure 30-70 %), on whichever webhook. `gc.freeze()` moves every object alive at
that moment into a generation no collection walks (docs/BENCHMARKS.md, *bench/scale*, run 6).

Frozen objects are still freed by reference counting; only cyclic garbage among them is never
reclaimed. So the freeze happens once, when start-up is done and nothing but what stays is
alive, after a collection that clears start-up's garbage: not on each directory rebuild, when
requests in flight (sessions, tasks: cycles) would be frozen with the new cache.
"""

from __future__ import annotations

import gc


def freeze_long_lived() -> None:
    """Everything alive now stays for the process's life: collect start-up's garbage, then
    leave the rest out of every later collection."""
    gc.collect()
    gc.freeze()


def thaw() -> None:
    """Give the frozen objects back to the collector (an app's shutdown: a process that starts
    another app, as tests and benches do, can then reclaim the first one's cycles)."""
    gc.unfreeze()
