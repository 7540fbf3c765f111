"""A route for an endpoint that takes only the `Request` and answers a `Response` itself: FastAPI
calls it directly, without its request handler (reading the body for a model, solving the
dependencies, serialising a return value), which such an endpoint uses none of. The route is
documented in the OpenAPI document as any other, from the same declaration; the middlewares,
the exception handlers and tracing see it as any other.

Only for a hot endpoint where that handler's per-call work shows (the introspection's: about a
twentieth of its CPU, docs/BENCHMARKS.md). An endpoint with a parameter or a dependency of its
own or of its router is refused when the route is made; dependencies given where the router is
included (`include_router(..., dependencies=...)`) are not seen here and would not run: include
a router with plain routes without them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response


class PlainRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        dependant = self.dependant
        takes = list(inspect.signature(endpoint).parameters.values())
        # What FastAPI's handler would do for anything else (a body, a parameter, a dependency,
        # a return value to serialise) this route would not: refuse such an endpoint here.
        if (
            not inspect.iscoroutinefunction(endpoint)
            or len(takes) != 1
            or dependant.request_param_name != takes[0].name
            or dependant.dependencies
            or self.body_field is not None
            or self.dependencies
        ):
            raise TypeError(f"{self.path}: a plain route's endpoint is `async def f(request)`")
        handler: Callable[[Request], Coroutine[Any, Any, Response]] = endpoint
        return handler
