"""The app's route table as the authorisation tests read it: each (method, path) it serves and
what guards it (a bearer token, the scopes its `require_scope` dependencies name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from broker.oauth.principal import authenticated, require_scope
from broker.oauth.scopes import Scope


@dataclass(frozen=True)
class Guard:
    authenticated: bool  # the route depends on `authenticated` (a bearer token), or checks it
    scopes: frozenset[str]  # scopes required by `require_scope(...)` or `checks_token(...)`


_SCOPE_CHECK = f"{require_scope.__qualname__}.<locals>.check"


def _guard(dependant: Any) -> Guard:
    seen_auth, scopes, stack = False, set[str](), [dependant] if dependant else []
    while stack:
        node = stack.pop()
        call = node.call
        seen_auth |= call is authenticated
        if (checked := getattr(call, "checks_scope", None)) is not None:  # `checks_token(scope)`
            seen_auth = True
            scopes.add(Scope(checked).value)
        if getattr(call, "__qualname__", "") == _SCOPE_CHECK:
            cells = dict(zip(call.__code__.co_freevars, call.__closure__ or (), strict=True))
            scopes.add(Scope(cells["scope"].cell_contents).value)
        stack.extend(node.dependencies)
    return Guard(seen_auth, frozenset(scopes))


def app_routes(app: FastAPI) -> dict[tuple[str, str], Guard]:
    """Every (method, path) the app serves (HEAD folded into GET), with what guards it."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI with lazily included routers
    except ImportError:  # pragma: no cover - older FastAPI: app.routes is flat
        contexts: list[Any] = list(app.routes)
    else:
        contexts = list(iter_route_contexts(app.routes))
    routes: dict[tuple[str, str], Guard] = {}
    for route in contexts:
        path = getattr(route, "path", None)
        methods = set(getattr(route, "methods", None) or ())
        if path is None or not methods:
            continue
        guard = _guard(getattr(route, "dependant", None))
        for method in methods - ({"HEAD"} if "GET" in methods else set()):
            routes[(method, path)] = guard
    return routes
