"""Every problem a person may read has a Chinese title (GLOSSARY.md's words): each Problem type,
and the problems the handlers make for validation, HTTP and server errors. Chinese by default,
English when Accept-Language prefers it, with Content-Language and Vary saying which."""

from __future__ import annotations

import importlib
import pkgutil
import re

import httpx
import pytest

import broker
from broker.kit.problems import Problem
from testing.clients import TokenFactory, bearer

pytestmark = pytest.mark.integration
CJK = re.compile(r"[\u4e00-\u9fff]")


def _every_problem_type() -> list[type[Problem]]:
    for module in pkgutil.walk_packages(broker.__path__, "broker."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found: list[type[Problem]] = []
    pending: list[type[Problem]] = [Problem]
    while pending:
        for sub in pending.pop().__subclasses__():
            found.append(sub)
            pending.append(sub)
    return found


def test_every_problem_type_has_a_chinese_title_and_an_english_one() -> None:
    types = _every_problem_type()
    assert len(types) > 40
    missing = [t.__qualname__ for t in types if not (t.title_zh and CJK.search(t.title_zh))]
    assert missing == []
    # the English title is English: the two languages are no longer joined in one title
    mixed = [t.__qualname__ for t in types if CJK.search(t.title)]
    assert mixed == []


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


async def test_handler_problems_are_titled_in_the_callers_language(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/v1/no-such-thing")
    assert (missing.status_code, missing.json()["title"]) == (404, "未找到")
    english = await client.get("/v1/no-such-thing", headers={"Accept-Language": "en-US"})
    assert english.json()["title"] == "Not found"
    not_allowed = await client.delete("/healthz")
    assert not_allowed.json()["title"] == "不支持该请求方法"


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
