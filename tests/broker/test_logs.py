"""Log lines are JSON objects carrying the current span's ids and, when they are about a filed
request, its id and first trace. Run in a subprocess: the configuration is process-wide."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from testing.processes import answers, free_port
from testing.waiting import wait_until

SCRIPT = textwrap.dedent(
    """
    import logging
    from opentelemetry.sdk.trace import TracerProvider
    from core import logs

    logs.configure("INFO")
    log = logging.getLogger("broker.example")
    tracer = TracerProvider().get_tracer("example")
    with tracer.start_as_current_span("call") as span:
        context = span.get_span_context()
        print(f"{context.trace_id:032x} {context.span_id:016x}")
        with logs.about_request("req_example", "ab" * 16):
            log.warning("deciding %s", "req_example")
        log.info("after the request")
    log.debug("below the level")
    logging.getLogger("httpx").info("HTTP Request: POST (a line per webhook: left out)")
    log.error("outside any span")
    """
)


def test_json_lines_with_trace_and_request_ids() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    trace_id, span_id = done.stdout.split()
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [line["message"] for line in lines] == [
        "deciding req_example",
        "after the request",
        "outside any span",
    ]
    about, after, outside = lines
    assert about["level"] == "WARNING"
    assert about["logger"] == "broker.example"
    assert (about["trace_id"], about["span_id"]) == (trace_id, span_id)
    assert (about["request_id"], about["request_trace_id"]) == ("req_example", "ab" * 16)
    assert after["trace_id"] == trace_id
    assert "request_id" not in after
    assert "trace_id" not in outside
    assert "span_id" not in outside
    assert about["time"].endswith("+00:00")


async def test_the_server_writes_only_json_lines(tmp_path: Path) -> None:
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/logs.db",
        "BROKER_DEV_KEY_DIR": str(tmp_path),
        "SLA_JOB": "false",
        "OUTBOX_RELAY": "false",
    }
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    env.pop("REDIS_URL", None)
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cdo_cli", "serve", "--port", str(port),
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        await wait_until(lambda: answers(url), limit_s=90, what="the server to answer")
    finally:
        server.terminate()
        _, stderr = await asyncio.wait_for(server.communicate(), 30)
    lines = [json.loads(line) for line in stderr.decode().splitlines()]  # each line parses
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.error", "uvicorn.access"} <= loggers
    assert any("GET /healthz" in line["message"] for line in lines)
