"""The problem responses of the OpenAPI document: what each operation answers besides success.

What every operation of a kind answers is derived from its own entry in the document, so that a
new endpoint is documented without anyone remembering it: a bearer token (401; 403 when it needs
a scope; 503 when Redis or the database behind it is down), a path id (404), a body (400 when
not UTF-8 JSON, 413, 415 on the JSON API), and any parameter (422, in the broker's problem shape
rather than FastAPI's, which it never sends). An endpoint declares what its own rules add:
`responses=problems(409)`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from broker.kit.problems import PROBLEM_MEDIA_TYPE

COMPONENTS = "#/components/schemas/"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
JSON_API = "/v1/"  # where RequireJSONBody refuses bodies that are not JSON


class FieldError(BaseModel):
    field: str = Field(description="the field, dotted (`period.end`)")
    in_: str = Field(alias="in", description="body, query, path or header")
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details. A problem may carry further members (`required_scope`,
    `field`, `checks`, ...)."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="stable URI naming the kind of problem")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(default=None, description="the path that was called")
    errors: list[FieldError] | None = Field(default=None, description="each invalid field")


WHY: dict[int, str] = {
    400: "The body is not UTF-8 JSON",
    401: "No valid access token",
    403: "The token lacks the scope, or its organisation the role, that the call needs",
    404: "Nothing with this id that the caller may see",
    409: "Conflicts with the current state",
    413: "The body is larger than MAX_BODY_BYTES",
    415: "The body is not JSON",
    422: "Invalid input: `errors` names each field",
    429: "Over a rate limit: retry after `Retry-After` seconds",
    503: "A dependency is unreachable and nothing changed: retry after `Retry-After` seconds",
}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}


def problem_doc(status: int, description: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description or WHY[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": COMPONENTS + "Problem"}}},
    }
    if status in (429, 503):
        response["headers"] = RETRY_AFTER
    return response


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """For an endpoint's `responses=`: the problems that its own rules answer."""
    return {status: problem_doc(status) for status in statuses}


def document_problems(app: FastAPI) -> None:
    """Make `app.openapi()` (and so /openapi.json) list every problem each operation answers."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            add_problems(generate())
        return generate()  # cached by FastAPI, now with the problems

    app.openapi = openapi  # type: ignore[method-assign]


def add_problems(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _, definitions = models_json_schema(
        [(ProblemDetails, "serialization")], ref_template=COMPONENTS + "{model}"
    )
    problem_schema = definitions["$defs"].pop(ProblemDetails.__name__)
    schemas.update(definitions["$defs"], Problem=problem_schema)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if "422" in responses:  # FastAPI's own, for any parameter: not what the broker sends
                responses["422"] = problem_doc(422)
            for status in _derived(path, method.upper(), operation):
                responses.setdefault(str(status), problem_doc(status))
    for replaced in ("HTTPValidationError", "ValidationError"):  # the first refers to the second
        if f'"{COMPONENTS}{replaced}"' not in json.dumps(document):
            schemas.pop(replaced, None)


def _derived(path: str, method: str, operation: dict[str, Any]) -> Iterator[int]:
    requirements = operation.get("security", [])
    if requirements:
        yield 401
    if any(scopes for requirement in requirements for scopes in requirement.values()):
        yield 403
    if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
        yield 404
    if method in BODY_METHODS:
        yield 413
        if path.startswith(JSON_API):
            yield 415
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                yield 400
    if requirements:  # the token's revocation is looked up in Redis, the rest in the database
        yield 503
