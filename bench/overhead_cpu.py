"""`bench/run overhead_cpu`: what every call pays around its endpoint, CPU per call in one process.

Four cheap GETs, one call at a time through httpx's ASGI transport (no server, no contention),
so the figure is the app's own per-call work: a bare FastAPI app's trivial route (the floor of
the framework and the client); the broker's `/healthz` (its middleware, routing, JSON; excluded
from tracing); `/.well-known/oauth-authorization-server` (the same with one dependency, traced);
and `/v1/evaluation/indicators` with a bearer token (authentication: the token verified and its
revocation asked of Redis, and a scope). The broker's routes are measured twice: with tracing
off (as the benches run) and with tracing as production configures it (`configure_tracing`: a
`BatchSpanProcessor`, here with an exporter that drops the spans, so the export's encoding and
network are left out but the spans' making and batching are in).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI
from opentelemetry import trace

from bench import clients
from bench.environment import DroppedSpans, Environment, app_in_process
from testing import workloads

Call = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def _bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def _measure(app: FastAPI, label: str, calls: int, call: Call) -> float:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        for _ in range(50):  # warm whatever is cached per route
            (await call(http)).raise_for_status()
        cpu = time.process_time()
        for _ in range(calls):
            (await call(http)).raise_for_status()
        cpu = time.process_time() - cpu
    print(f"  {label}: {1000 * cpu / calls:.3f} ms CPU a call")
    return cpu / calls


def _get(path: str, bearer: str | None = None) -> Call:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}

    async def call(http: httpx.AsyncClient) -> httpx.Response:
        return await http.get(path, headers=headers)

    return call


async def _broker(app: FastAPI, label: str, calls: int, bearer: str, only: str | None) -> None:
    routes = {
        "healthz": _get("/healthz"),
        "metadata": _get("/.well-known/oauth-authorization-server"),
        "authenticated": _get("/v1/evaluation/indicators", bearer),
    }
    async with app.router.lifespan_context(app):
        print(label)
        for name, call in routes.items():
            if only in (None, name):
                await _measure(app, name, calls, call)


async def main(opts: argparse.Namespace) -> None:
    environment = Environment()
    if opts.mode in (None, "bare"):
        print("bare FastAPI")
        await _measure(_bare_app(), "GET /ping", opts.calls, _get("/ping"))
    if opts.mode == "bare":
        return
    plain = await app_in_process(environment, fresh=opts.fresh)
    org = workloads.requesters(1)[0]
    reader = (await clients.create_clients(environment, {org: "reports:read"}))[org]
    transport = httpx.ASGITransport(app=plain)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http,
        plain.router.lifespan_context(plain),
    ):
        bearer = await clients.token(http, reader)
    if opts.mode in (None, "plain"):
        await _broker(plain, "broker, tracing off", opts.calls, bearer, opts.route)
    if opts.mode in (None, "traced"):
        exporter = DroppedSpans()
        traced = await app_in_process(environment, fresh=False, traced=exporter)
        await _broker(traced, "broker, traced as in production", opts.calls, bearer, opts.route)
        trace.get_tracer_provider().force_flush()  # type: ignore[attr-defined]
        print(f"  ({exporter.spans} spans exported)")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per route")
    parser.add_argument("--mode", choices=["bare", "plain", "traced"], help="only this app")
    parser.add_argument("--route", choices=["healthz", "metadata", "authenticated"])
    parser.add_argument("--fresh", action="store_true", help="empty and seed the database first")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
