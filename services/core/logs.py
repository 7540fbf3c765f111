"""Structured JSON logs for both services: one object per line, with the current span's
`trace_id` and `span_id`, and, on lines about a filed request, `request_id` and the request's own
first trace (`request_trace_id`), so an operator goes from a log line to the trace and back.

Uvicorn's own loggers (errors and access) go through the same formatter."""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from opentelemetry import trace

_request: ContextVar[tuple[str, str] | None] = ContextVar("cdo_log_request", default=None)


def bind_request(request_id: str, trace_id: str) -> Token[tuple[str, str] | None]:
    """Lines logged from here on in this task (an HTTP call) are about this request."""
    return _request.set((request_id, trace_id))


@contextmanager
def about_request(request_id: str, trace_id: str) -> Iterator[None]:
    """Lines logged inside are about this request (a job going through many requests)."""
    token = bind_request(request_id, trace_id)
    try:
        yield
    finally:
        _request.reset(token)


class TraceFields(logging.Filter):
    """Adds `trace_id`/`span_id` (the current span; absent when there is none) and the request
    the line is about."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = f"{context.trace_id:032x}"
            record.span_id = f"{context.span_id:016x}"
        if (about := _request.get()) is not None:
            record.request_id, record.request_trace_id = about
        return True


def config(level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the process, usable as uvicorn's `log_config`."""
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "filters": ["trace"],
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"trace": {"()": TraceFields}},
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(levelname)s %(name)s %(message)s",
                "rename_fields": {"levelname": "level", "name": "logger"},
                "timestamp": "time",  # ISO 8601, UTC
            }
        },
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"level": level},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"level": level},
            "aiokafka": {"level": "WARNING"},  # a line per rebalance step otherwise
            # A line per request otherwise: the notifier's every webhook POST, which its delivery
            # log (webhook_attempts) records already. DEBUG shows them again.
            "httpx": {"level": "WARNING" if level == "INFO" else level},
        },
    }


def configure(level: str = "INFO") -> None:
    logging.config.dictConfig(config(level))
