"""RFC 9457 problem details: one exception base, one set of handlers, stable `type` URIs."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import redis.exceptions
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from broker.kit.languages import Language, preferred_language
from core.db import database_unavailable

PROBLEM_BASE = "https://cdo-broker.gd.gov.cn/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

logger = logging.getLogger(__name__)


class Problem(Exception):
    """A domain error the API reports as problem JSON. Subclass it next to the service.

    Every problem type gives `title_zh` (a test holds it so), and is answered in Chinese unless
    the caller's `Accept-Language` prefers English (kit/languages.py); `title` and `detail` are
    the English. A problem raised with `detail_zh` has its detail in Chinese too; without, the
    detail stays as written (it names the field and the value, which need no translation)."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"
    title_zh: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        detail_zh: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.detail_zh = detail_zh
        self.headers = headers or {}
        self.extensions = extensions

    def texts(self, language: Language) -> tuple[str, str]:
        """(title, detail) in `language`, where the problem has them in it."""
        if language is Language.zh and self.title_zh is not None:
            return self.title_zh, self.detail_zh or self.detail
        return self.title, self.detail


class InvalidField(Problem):
    """A body field refused by a rule the schema cannot state (a lookup, a domain rule): a 422
    naming the field the way validation errors do."""

    status = 422
    slug = "invalid-field"
    title = "Invalid field"
    title_zh = "字段无效"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(
            f"{field}: {reason}",
            field=field,
            errors=[{"field": field, "in": "body", "message": reason}],
        )


class NotFound(Problem):
    status = 404
    slug = "not-found"
    title = "Not found"
    title_zh = "未找到"


class OrganisationNotFound(NotFound):
    """Here rather than with the directory: the client and people registries, below the
    directory, refuse an unknown organisation in the same words."""

    def __init__(self, organisation_id: str) -> None:
        super().__init__(f"no organisation '{organisation_id}'", organisation_id=organisation_id)


class Conflict(Problem):
    status = 409
    slug = "conflict"
    title = "Conflict"
    title_zh = "操作冲突"


class Forbidden(Problem):
    status = 403
    slug = "insufficient-scope"
    title = "Insufficient scope"
    title_zh = "权限范围不足"


class Unauthorized(Problem):
    status = 401
    slug = "unauthorized"
    title = "Unauthorized"
    title_zh = "未认证"


class ServiceUnavailable(Problem):
    status = 503
    slug = "dependency-unavailable"
    title = "A dependency is unavailable"
    title_zh = "依赖服务暂不可用"


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    body.update(extensions)
    return JSONResponse(
        body,
        status_code=status,
        headers=dict(headers) if headers else None,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    # ("body", "period", "end") -> "period.end"; the leading location is reported separately
    return ".".join(str(part) for part in loc[1:]) or str(loc[0])


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    language = preferred_language(request.headers.get("accept-language"))
    title, detail = exc.texts(language)
    headers = dict(exc.headers)
    if exc.title_zh is not None:
        headers |= {"Content-Language": language.value, "Vary": "Accept-Language"}
    return problem_response(
        exc.status,
        exc.slug,
        title,
        detail,
        instance=request.url.path,
        headers=headers,
        **exc.extensions,
    )


_NAMED = re.compile(r"^(?P<field>[A-Za-z_][\w.]*): ")


def _describe(err: Any) -> dict[str, str]:
    if err.get("type") == "json_invalid":  # located by a character offset, which is no field
        why = (err.get("ctx") or {}).get("error", "JSON decode error")
        return {"field": "body", "in": "body", "message": f"not JSON: {why} at {err['loc'][-1]}"}
    # A model-level check names its field in its message ("end: must be after start").
    message = str(err["msg"]).removeprefix("Value error, ")
    field = _field_name(tuple(err["loc"]))
    named = _NAMED.match(message)
    if named and len(err["loc"]) <= 2:
        prefix = field if field not in ("body", "query") and len(err["loc"]) == 2 else ""
        field = f"{prefix}.{named['field']}" if prefix else named["field"]
        message = message[named.end() :]
    return {"field": field, "in": str(err["loc"][0]), "message": message}


def _in_language(
    request: Request, en: tuple[str, str | None], zh: tuple[str, str | None]
) -> tuple[str, str | None, dict[str, str]]:
    """(title, detail, headers) of a problem the handlers below make, in the caller's language."""
    language = preferred_language(request.headers.get("accept-language"))
    title, detail = zh if language is Language.zh else en
    return title, detail, {"Content-Language": language.value, "Vary": "Accept-Language"}


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_describe(err) for err in exc.errors()]
    first = errors[0] if errors else {"field": "?", "message": "invalid"}
    detail = f"{first['field']}: {first['message']}"  # as the validator words it
    title, _, headers = _in_language(request, ("Invalid request", None), ("请求参数有误", None))
    return problem_response(
        422,
        "validation-error",
        title,
        detail,
        instance=request.url.path,
        headers=headers,
        errors=errors,
    )


_HTTP_SLUGS = {
    400: ("bad-request", "Bad request", "请求无效"),  # e.g. a body that is not UTF-8
    404: ("not-found", "Not found", "未找到"),
    405: ("method-not-allowed", "Method not allowed", "不支持该请求方法"),
    413: ("payload-too-large", "Payload too large", "请求体过大"),
    415: ("unsupported-media-type", "Unsupported media type", "不支持的内容类型"),
}


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug, title, title_zh = _HTTP_SLUGS.get(
        exc.status_code, ("http-error", "HTTP error", "HTTP 错误")
    )
    detail = (
        exc.detail if isinstance(exc.detail, str) and exc.detail.lower() != title.lower() else None
    )
    title, detail, headers = _in_language(request, (title, detail), (title_zh, detail))
    return problem_response(
        exc.status_code,
        slug,
        title,
        detail,
        instance=request.url.path,
        headers=dict(exc.headers or {}) | headers,
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    title, detail, headers = _in_language(
        request,
        ("Internal server error", "The broker could not complete the request; it has been logged."),
        ("系统内部错误", "系统未能完成该请求，已记录日志。"),
    )
    return problem_response(
        500, "internal-error", title, detail, instance=request.url.path, headers=headers
    )


# What a lost connection to PostgreSQL or Redis surfaces as: the caller should retry, not give up.
DEPENDENCY_ERRORS: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)
RETRY_AFTER_SECONDS = "5"


async def _on_dependency_down(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("dependency unavailable on %s %s: %r", request.method, request.url.path, exc)
    title, detail, headers = _in_language(
        request,
        (
            ServiceUnavailable.title,
            "A service the broker depends on is unreachable; nothing was changed. Retry later.",
        ),
        (str(ServiceUnavailable.title_zh), "系统依赖的服务暂不可达，未作任何更改，请稍后重试。"),
    )
    return problem_response(
        503,
        ServiceUnavailable.slug,
        title,
        detail,
        instance=request.url.path,
        headers={"Retry-After": RETRY_AFTER_SECONDS} | headers,
    )


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    # PostgreSQL restarting reaches us as a plain DBAPIError too (see database_unavailable).
    if database_unavailable(exc):
        return await _on_dependency_down(request, exc)
    raise exc  # any other database error: the 500 handler, as before


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    for error in DEPENDENCY_ERRORS:
        app.add_exception_handler(error, _on_dependency_down)
    app.add_exception_handler(sqlalchemy.exc.DBAPIError, _on_database_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
