"""The route template a request's server span is named for, found without trying every route.

OpenTelemetry's FastAPI instrumentation names the span `GET /v1/requests/{request_id}` (and
sets `http.route`) by flattening the app's routers and matching the request against each route
in order, on every request, before the app itself routes it: with the broker's ~150 routes that
was an eighth of an authenticated GET's CPU. `RouteIndex` hands the instrumentation's own
function only the routes that can match: those whose first two path segments are the request's,
and those whose template does not fix its first two segments (tried by every request), in the
app's order. The instrumentation still matches and names; the answer is the same by construction
(a route can only match a path that begins with its template's text before the first parameter).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette._utils import get_route_path
from starlette.routing import Mount, Route
from starlette.types import Scope

SpanDetails = Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]


def _key(path: str) -> str:
    """The first two segments of `path`: `/v1/requests` of `/v1/requests/r-1/timeline`."""
    return "/".join(path.split("/", 3)[:3])


def _fixed_key(route: RouteContext) -> str | None:
    """The key of every path `route` can match, or None when its template does not fix one."""
    original, path = route.original_route, route.path
    if not isinstance(original, (APIRoute, Route, Mount)) or path is None:
        return None  # hosts, websockets, anything else: tried for every request
    if isinstance(original, Mount):
        path += "/{path}"  # a mount matches its path and anything below it
    literal, brace, _ = path.partition("{")
    if not brace:
        return _key(literal)  # matches exactly this path
    parts = literal.split("/", 3)
    return _key(literal) if len(parts) == 4 else None  # "/v1/x/" fixes two; "/v1/" does not


@dataclass(frozen=True)
class _Routes:
    """What the instrumentation reads of `scope["app"]`: its routes."""

    routes: list[Any]


class RouteIndex:
    """Wraps the instrumentation's `default_span_details`; the routes are indexed at the first
    request, when the app has all of them."""

    def __init__(self, app: FastAPI, details: SpanDetails) -> None:
        self._app = app
        self.details = details  # the instrumentation's own: it still matches and names
        self._buckets: dict[str, _Routes] | None = None
        self._unfixed = _Routes([])

    def _build(self) -> dict[str, _Routes]:
        routes = list(iter_route_contexts(self._app.routes))
        keyed = [(route, _fixed_key(route)) for route in routes]
        buckets = {key: _Routes([]) for _, key in keyed if key is not None}
        for route, key in keyed:
            for bucket in _targets(buckets, key, self._unfixed):
                bucket.routes.append(route)
        return buckets

    def __call__(self, scope: Scope) -> tuple[str, dict[str, Any]]:
        if self._buckets is None:
            self._buckets = self._build()
        candidates = self._buckets.get(_key(get_route_path(scope)), self._unfixed)
        return self.details({**scope, "app": candidates})


def _targets(buckets: dict[str, _Routes], key: str | None, unfixed: _Routes) -> Iterable[_Routes]:
    if key is not None:
        return (buckets[key],)
    return (*buckets.values(), unfixed)
