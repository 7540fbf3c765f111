"""Every problem a person may read is in Chinese (GLOSSARY.md's words): each Problem type's title
and each problem's detail, and the problems the handlers make for validation, HTTP and server
errors. Chinese by default, English when Accept-Language prefers it, with Content-Language and
Vary saying which.

The details are held two ways, as a newcomer may add a problem either way: a type that builds its
detail in `__init__` is constructed here with representative arguments, and every raise site
that writes its own detail is read from the source (a site giving no Chinese, None, or Chinese
without CJK fails, naming the file and line)."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import types
import typing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import broker
from broker.kit.problems import Problem
from testing.clients import TokenFactory, bearer
from testing.workloads import request_body

pytestmark = pytest.mark.integration
CJK = re.compile(r"[\u4e00-\u9fff]")
FIELD_LEAD = re.compile(r"^([A-Za-z_{][\w.\[\]{}]*): ")

# Problems still answered in English under the Chinese default, each because an existing test
# reads its English detail without asking for English (a question for the lead): the class, or
# (module, line text) of the raise site.
ENGLISH_FOR_NOW: dict[str, str] = {}
ENGLISH_SITES_FOR_NOW: dict[tuple[str, str], str] = {}


def _modules() -> list[types.ModuleType]:
    return [
        importlib.import_module(module.name)
        for module in pkgutil.walk_packages(broker.__path__, "broker.")
        if ".migrations" not in module.name
    ]


def _every_problem_type() -> list[type[Problem]]:
    _modules()
    found: list[type[Problem]] = []
    pending: list[type[Problem]] = [Problem]
    while pending:
        for sub in pending.pop().__subclasses__():
            found.append(sub)
            pending.append(sub)
    return found


def test_every_problem_type_has_a_chinese_title_and_an_english_one() -> None:
    types_ = _every_problem_type()
    assert len(types_) > 40
    missing = [t.__qualname__ for t in types_ if not (t.title_zh and CJK.search(t.title_zh))]
    assert missing == []
    # the English title is English: the two languages are no longer joined in one title
    mixed = [t.__qualname__ for t in types_ if CJK.search(t.title)]
    assert mixed == []


def test_a_types_page_sentence_says_more_than_its_title() -> None:
    """A page falls back to `title_zh` (console/refusals.py): a `said_zh` or `title_zh` that
    repeats its parent's or its own title is one more place to keep in step, saying nothing."""
    repeated = [
        t.__qualname__
        for t in _every_problem_type()
        if ("said_zh" in vars(t) and t.said_zh == t.title_zh)
        or ("title_zh" in vars(t) and t.title_zh == super(t, t).title_zh)
    ]
    assert repeated == []


# ---- details a type builds from its arguments ----

SAMPLES: dict[Any, Any] = {
    str: "gz-gaj",
    str | None: None,  # e.g. no reason from the policy: the type's own words
    int: 5,
    datetime: datetime(2026, 12, 8, 10, 0, tzinfo=UTC),
    list[str]: ["name", "id_number"],
}


def _takes_its_chinese(init: Any) -> bool:
    """Whether the caller gives the Chinese (a `..._zh` parameter): its raise sites are read."""
    return any(name.endswith("_zh") for name in inspect.signature(init).parameters)


def _built_here(kind: type[Problem]) -> Problem:
    hints = typing.get_type_hints(kind.__init__)
    arguments = {
        name: SAMPLES[hints[name]]
        for name, parameter in inspect.signature(kind.__init__).parameters.items()
        if name != "self" and parameter.default is inspect.Parameter.empty
    }
    return kind(**arguments)


def _same_field_lead(problem: Problem) -> bool:
    english = FIELD_LEAD.match(problem.detail)
    return english is None or (problem.detail_zh or "").startswith(english[0])


def test_every_type_that_builds_its_detail_builds_it_in_chinese_too() -> None:
    built = [
        _built_here(kind)
        for kind in _every_problem_type()
        if not _takes_its_chinese(kind.__init__) and kind.__name__ not in ENGLISH_FOR_NOW
    ]
    assert len(built) > 30
    missing = [type(p).__name__ for p in built if not CJK.search(p.detail_zh or "")]
    assert missing == []
    # a detail naming a field names it first in both languages
    assert [type(p).__name__ for p in built if not _same_field_lead(p)] == []


def test_the_english_for_now_are_still_english_only() -> None:
    """Each entry is a decision to take, not a place to hide a new problem."""
    for name in ENGLISH_FOR_NOW:
        kind = next(t for t in _every_problem_type() if t.__name__ == name)
        assert _built_here(kind).detail_zh is None, f"{name} has Chinese: drop it from the list"


# ---- details written at the raise site ----


def _problem_class(module: types.ModuleType, call: ast.Call) -> type[Problem] | None:
    """The Problem type `call` constructs, resolved in the module's namespace, or None."""
    path: list[str] = []
    node: ast.expr = call.func
    while isinstance(node, ast.Attribute):
        path.insert(0, node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    found: Any = vars(module).get(node.id)
    for name in path:
        found = getattr(found, name, None)
    return found if isinstance(found, type) and issubclass(found, Problem) else None


def _chinese_argument(call: ast.Call, kind: type[Problem]) -> ast.expr | None:
    """The argument giving the Chinese: `detail_zh=` or the `..._zh` parameter by position."""
    names = [n for n in inspect.signature(kind.__init__).parameters if n != "self"]
    for keyword in call.keywords:
        if keyword.arg is not None and keyword.arg.endswith("_zh"):
            return keyword.value
    for name, argument in zip(names, call.args, strict=False):
        if name.endswith("_zh"):
            return argument
    return None


def _passes_on_chinese(text: ast.expr) -> bool:
    """An f-string built from Chinese written elsewhere (`f"{reason_zh}“{item}”"`)."""
    return any(
        (isinstance(node, ast.Name) and node.id.endswith("zh"))
        or (isinstance(node, ast.Attribute) and node.attr.endswith("zh"))
        for node in ast.walk(text)
    )


def _said_at(call: ast.Call, kind: type[Problem]) -> str | None:
    """What is wrong with the Chinese at a raise site, or None."""
    chinese = _chinese_argument(call, kind)
    if chinese is None:
        return "no Chinese detail"
    if isinstance(chinese, ast.Constant) and chinese.value is None:
        return "a Chinese detail of None"
    if isinstance(chinese, ast.Constant | ast.JoinedStr):
        written = ast.unparse(chinese)
        if not CJK.search(written) and not _passes_on_chinese(chinese):
            return "a Chinese detail without Chinese"
        english = ast.unparse(call.args[0]) if call.args else ""
        lead = FIELD_LEAD.match(english.lstrip("f").strip("'\""))
        if lead and not written.lstrip("f").strip("'\"").startswith(lead[0]):
            return f"the Chinese does not start with the field, '{lead[0]}'"
    return None  # passed on from where it is written (exc.zh, a parameter, ...)


def _raise_sites() -> list[tuple[str, int, str, str | None]]:
    """(module, line, source, what is wrong) for each construction of a type whose Chinese its
    caller gives."""
    sites = []
    for module in _modules():
        source = Path(str(module.__file__)).read_text(encoding="utf-8")
        for call in ast.walk(ast.parse(source)):
            if not isinstance(call, ast.Call):
                continue
            kind = _problem_class(module, call)
            if kind is None or not _takes_its_chinese(kind.__init__):
                continue
            text = ast.get_source_segment(source, call) or ""
            sites.append((module.__name__, call.lineno, text, _said_at(call, kind)))
    return sites


def _for_now(module: str, text: str) -> bool:
    return any(m == module and said in text for m, said in ENGLISH_SITES_FOR_NOW)


def test_every_raise_site_that_writes_its_detail_writes_it_in_chinese_too() -> None:
    sites = _raise_sites()
    assert len(sites) > 60
    wrong = [
        f"{module}:{line}: {problem}"
        for module, line, text, problem in sites
        if problem is not None and not _for_now(module, text)
    ]
    assert wrong == []
    held = [(m, t) for m, _, t, p in sites if p is not None and _for_now(m, t)]
    assert len(held) == len(ENGLISH_SITES_FOR_NOW), "an English-for-now site has Chinese now"


def test_the_site_reader_finds_what_it_must() -> None:
    """The reader itself: a site without Chinese, with None, or with a field said differently is
    caught (so the test above cannot pass by reading nothing)."""
    from broker.requests.exceptions import InvalidRequest, RequestClosed

    def said(code: str, kind: type[Problem]) -> str | None:
        call = ast.parse(code, mode="eval").body
        assert isinstance(call, ast.Call)
        return _said_at(call, kind)

    assert said('RequestClosed("closed")', RequestClosed) == "no Chinese detail"
    assert said('RequestClosed("closed", detail_zh=None)', RequestClosed) == (
        "a Chinese detail of None"
    )
    assert said('RequestClosed("closed", detail_zh="closed")', RequestClosed) == (
        "a Chinese detail without Chinese"
    )
    assert said('InvalidRequest(f"{f}: bad", detail_zh="不对")', InvalidRequest) == (
        "the Chinese does not start with the field, '{f}: '"
    )
    assert said('InvalidRequest(f"{f}: bad", detail_zh=f"{f}: 不对")', InvalidRequest) is None


# ---- over HTTP, in both languages ----


async def _asked_both_ways(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], **kw: Any
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """(status, the problem in Chinese, in English): asked with no language, then in English."""
    chinese = await client.request(method, path, headers=headers, **kw)
    english = await client.request(method, path, headers=headers | ENGLISH, **kw)
    assert chinese.status_code == english.status_code
    assert (chinese.headers["content-language"], english.headers["content-language"]) == (
        "zh-CN",
        "en",
    )
    zh, en = chinese.json(), english.json()
    assert CJK.search(zh["title"]), zh
    assert CJK.search(zh["detail"]), zh
    assert not CJK.search(en["title"] + en["detail"]), en
    return chinese.status_code, zh, en


ENGLISH = {"Accept-Language": "en"}


def _new_body(body_id: str, kind: str, government_id: str) -> dict[str, str]:
    city = government_id.startswith("gz-")
    return {
        "id": body_id,
        "name": "测试单位",
        "name_en": "A test body",
        "kind": kind,
        "level": "city" if city else "province",
        "division_code": "440100" if city else "440000",
        "government_id": government_id,
    }


async def test_a_refusal_is_titled_in_the_callers_language(
    client: httpx.AsyncClient,
) -> None:
    chinese = await client.post("/v1/requests", json={"kind": "share"})
    assert chinese.status_code == 401  # no token: a Problem type
    assert chinese.json()["title"] == "未认证"
    assert chinese.headers["content-language"] == "zh-CN"
    english = await client.post(
        "/v1/requests", json={"kind": "share"}, headers={"Accept-Language": "en"}
    )
    assert english.json()["title"] == "Unauthorized"
    assert english.headers["content-language"] == "en"
    assert "Accept-Language" in english.headers["vary"]


@pytest.mark.parametrize(
    ("caller", "method", "path", "body", "status", "zh", "en"),
    [
        (
            ("gz-dsb", "directory:admin"),
            "POST",
            "/v1/organisations",
            _new_body("sec-outside-1", "department", "gd-gov"),
            403,
            "government_id: “gd-gov”不在“gz-dsb”的管辖范围内",
            "government_id: 'gd-gov' is outside the jurisdiction of 'gz-dsb'",
        ),
        (
            ("gz-gaj", "requests:read"),
            "GET",
            "/v1/requests/req_nowhere",
            None,
            404,
            "未找到申请“req_nowhere”，或您无权查看",
            "no request 'req_nowhere' visible to you",
        ),
        (
            ("gz-dsb", "directory:admin"),
            "POST",
            "/v1/organisations",
            _new_body("gz-second-bureau", "data_bureau", "gz-gov"),
            409,
            "government_id: “gz-gov”已有政务服务数据管理局（“gz-dsb”）",
            "government_id: 'gz-gov' already has a data bureau ('gz-dsb')",
        ),
    ],
    ids=["403", "404", "409"],
)
async def test_a_refusal_is_said_in_the_callers_language(
    client: httpx.AsyncClient,
    token_for: TokenFactory,
    caller: tuple[str, str],
    method: str,
    path: str,
    body: dict[str, str] | None,
    status: int,
    zh: str,
    en: str,
) -> None:
    headers = bearer(await token_for(*caller))

    answered, chinese, english = await _asked_both_ways(client, method, path, headers, json=body)

    assert answered == status
    assert (chinese["detail"], english["detail"]) == (zh, en)


async def test_a_validation_error_is_titled_in_chinese_and_names_its_field(
    client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    headers = bearer(await token_for("gz-gaj", "requests:submit"))
    invalid = await client.post("/v1/requests", headers=headers, json={"kind": "share"})
    assert invalid.status_code == 422
    assert invalid.json()["title"] == "请求参数有误"
    assert invalid.json()["errors"][0]["field"]
    english = await client.post(
        "/v1/requests", headers=headers | {"Accept-Language": "en"}, json={"kind": "share"}
    )
    assert english.json()["title"] == "Invalid request"


async def test_a_422_is_said_in_the_callers_language_naming_the_same_field(
    client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    headers = bearer(await token_for("gz-gaj", "requests:submit"))
    period = {"start": "2027-01-01T00:00:00+08:00", "end": "2026-01-01T00:00:00+08:00"}
    backwards = request_body("gd-gat-fugitives", ["name"]) | {"period": period}

    status, zh, en = await _asked_both_ways(client, "POST", "/v1/requests", headers, json={})
    backwards_status, backwards_zh, backwards_en = await _asked_both_ways(
        client, "POST", "/v1/requests", headers, json=backwards
    )

    assert (status, backwards_status) == (422, 422)
    field = en["errors"][0]["field"]  # pydantic's own error, and one of our validators'
    assert (zh["detail"], en["detail"]) == (f"{field}: 必填", f"{field}: Field required")
    assert backwards_zh["detail"] == "period.end: 结束时间须晚于开始时间"
    assert backwards_en["detail"] == "period.end: must be after start"
    # the errors stay as programs read them, in either language
    assert (zh["errors"], backwards_zh["errors"]) == (en["errors"], backwards_en["errors"])


async def test_handler_problems_are_titled_in_the_callers_language(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/v1/no-such-thing")
    assert (missing.status_code, missing.json()["title"]) == (404, "未找到")
    english = await client.get("/v1/no-such-thing", headers={"Accept-Language": "en-US"})
    assert english.json()["title"] == "Not found"
    not_allowed = await client.delete("/healthz")
    assert not_allowed.json()["title"] == "不支持该请求方法"


async def test_a_body_refused_before_the_app_is_said_in_the_callers_language(
    client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    as_form = bearer(await token_for("gz-gaj", "requests:submit")) | {
        "Content-Type": "application/x-www-form-urlencoded"
    }

    status, zh, en = await _asked_both_ways(
        client, "POST", "/v1/requests", as_form, content=b"kind=share"
    )

    assert status == 415
    assert zh["detail"] == (
        "不接受 Content-Type 'application/x-www-form-urlencoded'，请以 application/json 发送。"
    )
    assert en["detail"] == (
        "Content-Type 'application/x-www-form-urlencoded' is not accepted; send application/json."
    )
