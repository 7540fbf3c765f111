"""The app's exception handlers: each error becomes problem JSON (kit/problems.py) in the caller's
language, with a stable `type` — Problem types, validation errors, HTTP errors, a dependency
that is down, and anything unexpected."""

from __future__ import annotations

import logging

import redis.exceptions
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from broker.kit.languages import preferred_language
from broker.kit.problems import Problem, ServiceUnavailable, problem_response, said_in
from broker.kit.validation_errors import describe
from core.db import database_unavailable

logger = logging.getLogger(__name__)


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


def _said(
    request: Request, en: tuple[str, str | None], zh: tuple[str, str | None]
) -> tuple[str, str | None, dict[str, str]]:
    return said_in(request.headers.get("accept-language"), en, zh)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [describe(err) for err in exc.errors()]
    first = errors[0] if errors else None
    # the first error, as the validator words it (in Chinese, as said in kit/validation_errors)
    en = f"{first.field}: {first.message}" if first else "?: invalid"
    zh = f"{first.field}: {first.message_zh}" if first else "?: 无效"
    title, detail, headers = _said(request, ("Invalid request", en), ("请求参数有误", zh))
    return problem_response(
        422,
        "validation-error",
        title,
        detail,
        instance=request.url.path,
        headers=headers,
        errors=[error.as_json() for error in errors],
    )


_HTTP_SLUGS = {
    400: ("bad-request", "Bad request", "请求无效"),  # e.g. a body that is not UTF-8
    404: ("not-found", "Not found", "未找到"),
    405: ("method-not-allowed", "Method not allowed", "不支持该请求方法"),
    413: ("payload-too-large", "Payload too large", "请求体过大"),
    415: ("unsupported-media-type", "Unsupported media type", "不支持的内容类型"),
}
# The details Starlette and FastAPI give their own HTTP errors, in Chinese.
_FRAMEWORK_DETAILS_ZH = {"There was an error parsing the body": "无法解析请求体"}


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug, title, title_zh = _HTTP_SLUGS.get(
        exc.status_code, ("http-error", "HTTP error", "HTTP 错误")
    )
    detail = (
        exc.detail if isinstance(exc.detail, str) and exc.detail.lower() != title.lower() else None
    )
    detail_zh = _FRAMEWORK_DETAILS_ZH.get(detail, detail) if detail else None
    title, detail, headers = _said(request, (title, detail), (title_zh, detail_zh))
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
    title, detail, headers = _said(
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
    title, detail, headers = _said(
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
