"""An open-loop load generator (its own process): filings at a constant arrival rate.

Request i is due at start + i / rate whatever became of the earlier ones, so a slow broker shows
as latency instead of a lower rate (no coordinated omission). A small HTTP/1.1 client over
keep-alive connections keeps the generator cheap next to the broker it loads. Writes one JSON
line per filing: request id, when it was due, when the answer came, the status. `--path` files
elsewhere than the broker's `/v1/requests` (bench/raw_floor.py's `/raw/requests/checked`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

from testing import workloads


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        reused = self.writer is not None and not self.writer.is_closing()
        try:
            return await self._post(path, headers, body)
        except (ConnectionError, asyncio.IncompleteReadError):
            if not reused:
                raise
        # The server closed the idle keep-alive connection (uvicorn after 5 s, which a low rate
        # spread over many connections exceeds) before it read this request: send it again on a
        # new one, as HTTP clients do. The Idempotency-Key makes that safe in any case.
        self.writer = None
        return await self._post(path, headers, body)

    async def _post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Content-Length: {len(body)}",
            "Content-Type: application/json",
        ]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)


async def run(opts: argparse.Namespace) -> None:
    tokens = [t for t in Path(opts.tokens).read_text().split() if t]  # noqa: ASYNC240 (before load)
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(opts.connections):
        pool.put_nowait(Connection("127.0.0.1", opts.port))
    results: list[dict[str, Any]] = []
    template = workloads.body("%PURPOSE%")
    count = int(opts.rate * opts.seconds)

    async def one(i: int, due: float) -> None:
        body = dict(template, purpose=f"bench e2e {opts.nonce} {i}")
        headers = {
            "Authorization": f"Bearer {tokens[i % len(tokens)]}",
            "Idempotency-Key": f"{opts.nonce}-{i}",
        }
        connection = await pool.get()
        try:
            status, answer = await connection.post(opts.path, headers, json.dumps(body).encode())
        except (OSError, asyncio.IncompleteReadError) as exc:
            connection.writer = None
            results.append({"i": i, "due": due, "error": repr(exc), "done": time.time()})
            return
        finally:
            pool.put_nowait(connection)
        request_id = json.loads(answer).get("id") if status == 201 else None
        results.append(
            {"i": i, "due": due, "done": time.time(), "status": status, "id": request_id}
        )

    tasks = [
        asyncio.create_task(one(i, due))
        async for i, due in workloads.paced(count, opts.rate, lead_s=0.5)
    ]
    await asyncio.gather(*tasks)
    Path(opts.out).write_text(  # noqa: ASYNC240 (after the load)
        "".join(json.dumps(r) + "\n" for r in results)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/v1/requests", help="where to POST the filings")
    parser.add_argument("--rate", type=float, required=True, help="filings per second")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--tokens", required=True, help="file of bearer tokens, one a line")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--nonce", required=True, help="makes this run's Idempotency-Keys new")
    parser.add_argument("--out", required=True)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
