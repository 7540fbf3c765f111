"""The simulated systems of every seeded body: one HTTP receiver registered as each body's webhook
endpoint (`PUT /v1/webhooks/endpoint`), which checks every signature, answers 500 to a share of
the deliveries and hangs past the notifier's timeout on another, and, for an approval task it
accepted, decides it with that body's own token at the decision URL: approve mostly, reject some.

    python -m bench.faults.cdo_systems --brokers URL,URL --clients FILE --port P

`GET /stats` answers what it has seen and done so far, with `ready` once every endpoint is
registered.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bench.faults.calls import Brokers, GaveUp, Tally, problem_type, token

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
TASKS = ("approval.requested", "approval.reminder", "approval.escalated")


class CdoSystems:
    def __init__(self, args: argparse.Namespace, brokers: Brokers) -> None:
        self._args = args
        self._brokers = brokers
        self._rng = random.Random(args.seed)
        self.verifiers: dict[str, Webhook] = {}
        self.tokens: dict[str, str] = {}
        self.ready = False
        self.received: Counter[str] = Counter()  # by webhook type, every attempt
        self.answered: Counter[str] = Counter()  # ok | error_500 | hang | bad_signature | ...
        self.accepted_ids: set[str] = set()  # webhook-ids answered 2xx
        self.accepted_again = 0  # a webhook-id answered 2xx before came again (at least once)
        self.told_decided: set[str] = set()  # requests whose request.decided was accepted
        self.told_granted: set[str] = set()  # grant ids of accepted grant.issued
        self.decisions: Counter[str] = Counter()
        self.decision_errors: list[dict[str, Any]] = []
        self.bad_signatures: list[dict[str, Any]] = []
        self._deciding: set[tuple[str, int, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._limit = asyncio.Semaphore(args.decision_concurrency)

    # --- set-up: a token and an endpoint per body

    async def register(self, clients: dict[str, dict[str, str]]) -> None:
        limit = asyncio.Semaphore(8)

        async def one(org: str, client: dict[str, str]) -> None:
            async with limit:
                self.tokens[org] = await token(
                    self._brokers, client["client_id"], client["client_secret"], client["scope"]
                )
                response = await self._brokers.call(
                    "PUT",
                    "/v1/webhooks/endpoint",
                    give_up_s=120,
                    what=f"webhook endpoint of {org}",
                    json={"url": f"http://127.0.0.1:{self._args.port}/hooks/{org}"},
                    headers=self._auth(org),
                )
            if response.status_code != 201:
                raise RuntimeError(f"registering {org}: {response.status_code} {response.text}")
            self.verifiers[org] = Webhook(response.json()["secret"])

        await asyncio.gather(*(one(org, c) for org, c in clients.items()))
        self.ready = True

    def _auth(self, org: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[org]}"}

    # --- the receiver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if method == "GET" and path == "/stats":
            await _answer(send, 200, json.dumps(self.stats()).encode())
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                # The sender gave up (its timeout) or died (kill -9) before the body was whole.
                self.answered["cut_off"] += 1
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if method != "POST" or not path.startswith("/hooks/"):
            await _answer(send, 404)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        await _answer(send, await self.hook(path.removeprefix("/hooks/"), body, headers))

    async def hook(self, org: str, body: bytes, headers: dict[str, str]) -> int:
        verifier = self.verifiers.get(org)
        if verifier is None:
            self.answered["unknown_endpoint"] += 1
            return 404
        try:
            payload = verifier.verify(body, headers)
        except WebhookVerificationError as exc:
            self.answered["bad_signature"] += 1
            self.bad_signatures.append(
                {"org": org, "webhook_id": headers.get("webhook-id"), "error": str(exc),
                 "bytes": len(body), "content_length": headers.get("content-length")}
            )  # fmt: skip
            return 400
        kind = str(payload.get("type"))
        self.received[kind] += 1
        draw = self._rng.random()
        if draw < self._args.fail:
            self.answered["error_500"] += 1
            return 500
        if draw < self._args.fail + self._args.hang:
            self.answered["hang"] += 1
            # A receiver that stops answering: the notifier's timeout ends the attempt first.
            await asyncio.sleep(self._args.hang_seconds)
            return 500
        self.answered["ok"] += 1
        webhook_id = headers.get("webhook-id", "")
        self.accepted_again += webhook_id in self.accepted_ids
        self.accepted_ids.add(webhook_id)
        data = payload.get("data") or {}
        if kind in TASKS and data.get("approver_id") == org:
            self._decide_later(org, data)
        elif kind == "request.decided":
            self.told_decided.add(str(data.get("request_id")))
        elif kind == "grant.issued":
            self.told_granted.add(str(data.get("grant_id")))
        return 200

    # --- deciding, after the webhook has been answered

    def _decide_later(self, org: str, task: dict[str, Any]) -> None:
        key = (str(task["request_id"]), int(task["step"]), org)
        if key in self._deciding:
            return  # a reminder, a redelivery: the decision is under way or made
        self._deciding.add(key)
        job = asyncio.create_task(self._decide(key, httpx.URL(task["decision_url"]).path))
        self._tasks.add(job)
        job.add_done_callback(self._tasks.discard)

    def verdict(self, request_id: str, step: int) -> dict[str, str]:
        digest = hashlib.sha256(f"{request_id}|{step}".encode()).digest()
        if digest[0] * 100 < self._args.reject_percent * 256:
            return {"decision": "reject", "comment": "不符合最小必要原则 (fault run rejection)"}
        return {"decision": "approve", "comment": "同意共享 (fault run)"}

    async def _decide(self, key: tuple[str, int, str], path: str) -> None:
        request_id, step, org = key
        async with self._limit:
            try:
                response = await self._brokers.call(
                    "POST",
                    path,
                    give_up_s=self._args.give_up,
                    what=f"decision on {request_id} step {step} by {org}",
                    json=self.verdict(request_id, step),
                    headers=self._auth(org),
                )
            except GaveUp as exc:
                self.decisions["gave_up"] += 1
                self._deciding.discard(key)  # the next reminder or redelivery tries again
                self.decision_errors.append({"key": list(key), "error": str(exc)})
                return
        kind = problem_type(response)
        if response.status_code == 200:
            self.decisions[self.verdict(request_id, step)["decision"]] += 1
        elif kind in ("not-the-approver", "request-closed", "decision-conflict"):
            # Escalated away from this body, or closed, before its decision came.
            self.decisions[kind] += 1
        else:
            self.decisions[f"http_{response.status_code}"] += 1
            self.decision_errors.append(
                {"key": list(key), "status": response.status_code, "body": response.text[:500]}
            )

    def stats(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "endpoints": len(self.verifiers),
            "received": dict(self.received),
            "answered": dict(self.answered),
            "distinct_accepted": len(self.accepted_ids),
            "accepted_again": self.accepted_again,
            "told_decided": len(self.told_decided),
            "told_granted": len(self.told_granted),
            "decisions": dict(self.decisions),
            "decisions_in_flight": len(self._tasks),
            "decision_errors": self.decision_errors[:50],
            "bad_signatures": self.bad_signatures[:50],
            **self._brokers.tally.as_dict(),
        }


async def _answer(send: Send, status: int, body: bytes = b"") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def serve(args: argparse.Namespace, clients: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Registers the endpoints, then receives and decides until SIGTERM; the last stats."""
    timeout = httpx.Timeout(15.0, connect=3.0)
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as http:
        systems = CdoSystems(args, Brokers(args.brokers.split(","), http, Tally()))
        config = uvicorn.Config(
            systems, host="127.0.0.1", port=args.port, lifespan="off",
            log_level="warning", access_log=False, backlog=4096,
        )  # fmt: skip
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        started = time.monotonic()
        await systems.register(clients)
        print(
            f"cdo systems: {len(systems.verifiers)} endpoints registered in "
            f"{time.monotonic() - started:.1f}s; receiving on port {args.port}",
            flush=True,
        )
        await stop.wait()
        server.should_exit = True
        await serving
        return systems.stats()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.faults.cdo_systems")
    parser.add_argument("--brokers", required=True, help="comma-separated base URLs")
    parser.add_argument("--clients", required=True, help="seed-pilot --clients file")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fail", type=float, default=0.30, help="share answered 500")
    parser.add_argument("--hang", type=float, default=0.10, help="share left hanging")
    parser.add_argument("--hang-seconds", type=float, required=True)
    parser.add_argument("--reject-percent", type=float, default=5.0)
    parser.add_argument("--decision-concurrency", type=int, default=32)
    parser.add_argument("--give-up", type=float, default=600.0, help="per decision, seconds")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    stats = asyncio.run(serve(args, json.loads(Path(args.clients).read_text())))
    if args.out:
        Path(args.out).write_text(json.dumps(stats, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
