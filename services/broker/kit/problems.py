"""RFC 9457 problem details: one exception base, stable `type` URIs, and every problem said in
the caller's language (Chinese unless its Accept-Language prefers English, kit/languages.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fastapi.responses import JSONResponse
from starlette.types import Scope

from broker.kit.languages import Language, preferred_language

PROBLEM_BASE = "https://cdo-broker.gd.gov.cn/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """A domain error the API reports as problem JSON. Subclass it next to the service.

    Every problem is said in both languages: the type's `title` and `title_zh`, the instance's
    `detail` and `detail_zh` (GLOSSARY.md's words). `detail_zh` is required: a subclass whose
    detail follows from its arguments builds both in its `__init__` (`DelegationEnded(id, at)`),
    or declares them where one value fills them, or none (`Worded`: `RequestNotFound(id)`;
    `Stated`), so its raise sites stay one line; elsewhere the raise site writes both, side by
    side. A detail naming a field starts with it in either language (`period.end: ...`).

    `said_zh` is the scheme's sentence for the type where its title is too terse for a page
    (the console's words, console/refusals.py); a page adds the detail after it unless
    `detail_on_pages` is False (the detail only restates the sentence with the identifiers the
    page already shows)."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"
    title_zh: str | None = None
    said_zh: ClassVar[str | None] = None
    detail_on_pages: ClassVar[bool] = True

    def __init__(
        self,
        detail: str,
        *,
        detail_zh: str,
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
            return self.title_zh, self.detail_zh
        return self.title, self.detail


class InvalidField(Problem):
    """A body field refused by a rule the schema cannot state (a lookup, a domain rule): a 422
    naming the field the way validation errors do. `errors` keeps the English reason, as
    validation errors' `errors` do (programs read it); the detail is in the caller's language."""

    status = 422
    slug = "invalid-field"
    title = "Invalid field"
    title_zh = "字段无效"

    def __init__(self, field: str, reason: str, reason_zh: str) -> None:
        super().__init__(
            f"{field}: {reason}",
            detail_zh=f"{field}: {reason_zh}",
            field=field,
            errors=[{"field": field, "in": "body", "message": reason}],
        )


class Worded:
    """Mixed in before a Problem type whose detail follows from one value (an identifier, a
    field's value), so that the type declares its words instead of building them: `wording`,
    the detail in English and in Chinese with `{}` where the value goes; `member`, the problem
    JSON's member that carries the value, and `field`, the field the problem names, where it has
    them. `class DatasetExists(Worded, Conflict)`: the value is the constructor's one argument."""

    wording: ClassVar[tuple[str, str]]
    member: ClassVar[str | None] = None
    field: ClassVar[str | None] = None

    def __init__(self, value: str) -> None:
        en, zh = self.wording
        carried: dict[str, Any] = {self.member: value} if self.member else {}
        if self.field:
            carried["field"] = self.field
        # the Problem's __init__, next after this mixin in the type's MRO
        super().__init__(  # type: ignore[call-arg]
            en.format(value), detail_zh=zh.format(value), **carried
        )


class Stated:
    """Mixed in before a Problem type whose detail is always the same, so that the type declares
    it: `statement`, the detail in English and in Chinese, and `field`, the field the problem
    names, where it names one. `class SignInRefused(Stated, Problem)`: no arguments."""

    statement: ClassVar[tuple[str, str]]
    field: ClassVar[str | None] = None

    def __init__(self) -> None:
        en, zh = self.statement
        named: dict[str, Any] = {"field": self.field} if self.field else {}
        # the Problem's __init__, next after this mixin in the type's MRO
        super().__init__(en, detail_zh=zh, **named)  # type: ignore[call-arg]


class NotFound(Problem):
    status = 404
    slug = "not-found"
    title = "Not found"
    title_zh = "未找到"
    said_zh = "未找到该事项，或您无权查看"
    detail_on_pages = False


class OrganisationNotFound(Worded, NotFound):
    """Here rather than with the directory: the client and people registries, below the
    directory, refuse an unknown organisation in the same words."""

    wording = ("no organisation '{}'", "未找到单位“{}”")
    member = "organisation_id"


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


def said_in(
    accept_language: str | None, en: tuple[str, str | None], zh: tuple[str, str | None]
) -> tuple[str, str | None, dict[str, str]]:
    """(title, detail, headers) of a problem made outside a Problem type (the handlers, the
    middleware that refuses a body), in the caller's language."""
    language = preferred_language(accept_language)
    title, detail = zh if language is Language.zh else en
    return title, detail, {"Content-Language": language.value, "Vary": "Accept-Language"}


def refusal(
    scope: Scope,
    status: int,
    slug: str,
    en: tuple[str, str],
    zh: tuple[str, str],
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem a middleware answers before the app (so before any handler), in the caller's
    language; an ASGI app itself: `await refusal(...)(scope, receive, send)`."""
    accept = dict(scope["headers"]).get(b"accept-language", b"").decode("latin-1")
    title, detail, said = said_in(accept, en, zh)
    return problem_response(
        status,
        slug,
        title,
        detail,
        instance=scope["path"],
        headers=dict(headers or {}) | said,
        **extensions,
    )
