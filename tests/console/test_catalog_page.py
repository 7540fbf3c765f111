"""政务数据资源目录 in the console: datasets found by a word of their name or by sharing class,
each with its provider, class and fields, a page at a time; staff go on to the filing form."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select

from broker.console.catalog_page import PAGE
from core.models.catalog import Dataset, DatasetStatus
from testing.clients import Sessions
from testing.organisations import fresh_body, fresh_dataset
from testing.people import Console

pytestmark = pytest.mark.integration

OpenConsole = Callable[..., Awaitable[Console]]
LISTED = re.compile(r'<li id="([^"]+)" class="dataset" data-class="([^"]+)">')
NEXT = re.compile(r'<a rel="next" href="([^"]+)">')


async def test_staff_find_a_dataset_and_go_on_to_ask_for_it(console: OpenConsole) -> None:
    staff = await console("gz-gaj", "staff")

    found = await staff.http.get("/console/catalog", params={"q": "社会保险"})

    assert found.status_code == 200
    assert [i for i, _ in LISTED.findall(found.text)] == ["gd-rst-social-insurance-enrolment"]
    assert "广东省人力资源和社会保障厅" in found.text
    assert "有条件共享" in found.text
    assert "参保单位统一社会信用代码" in found.text  # its fields
    assert "一般数据" in found.text  # its grade, and the catalog's attributes
    assert "<dt>资源代码</dt><dd><code>440000-RST-0001</code></dd>" in found.text
    assert "<dt>共享方式</dt><dd>接口</dd>" in found.text
    assert "<dt>更新周期</dt><dd>每日</dd>" in found.text
    assert "<dt>开放属性</dt><dd>不予开放</dd>" in found.text
    assert re.search(
        r"公民身份号码 <code>id_number</code> <span class=\"mark\">个人信息</span>", found.text
    )
    assert 'href="/console/requests/new?dataset_id=gd-rst-social-insurance-enrolment"' in found.text
    none = await staff.http.get("/console/catalog", params={"q": "100%_"})  # no wildcards
    assert LISTED.findall(none.text) == []
    assert "没有符合条件的数据资源" in none.text
    english = await staff.http.get(
        "/console/catalog", params={"q": "social insurance", "lang": "en"}
    )
    assert [i for i, _ in LISTED.findall(english.text)] == ["gd-rst-social-insurance-enrolment"]


async def test_by_sharing_class_and_page_by_page(
    console: OpenConsole, sessionmaker: Sessions
) -> None:
    owner = await fresh_body(sessionmaker)
    for _ in range(PAGE + 5):  # more than a page, whatever else the catalog holds
        await fresh_dataset(sessionmaker, owner)
    draft = await fresh_dataset(sessionmaker, owner)
    async with sessionmaker() as session, session.begin():
        entry = await session.get(Dataset, draft)
        assert entry is not None
        entry.status = DatasetStatus.draft  # a demand's entry, not yet published: not shown
    cdo = await console("gz-gov", "cdo")
    refused = await cdo.http.get("/console/catalog", params={"sharing_class": "not_shareable"})
    classes = {c for _, c in LISTED.findall(refused.text)}
    assert classes == {"not_shareable"}
    assert "须提供共享依据" in refused.text
    assert "/console/requests/new" not in refused.text  # a CDO files nothing

    pages = 0
    seen: list[str] = []
    page: str | None = "/console/catalog"
    while page is not None:
        shown = (await cdo.http.get(page.replace("&amp;", "&"))).text
        seen += [i for i, _ in LISTED.findall(shown)]
        pages += 1
        following = NEXT.search(shown)
        page = following.group(1) if following else None

    async with sessionmaker() as session:
        every = list(
            await session.scalars(
                select(Dataset.id)
                .where(Dataset.status == DatasetStatus.published)
                .order_by(Dataset.id)
            )
        )
    assert seen == every
    assert draft not in seen
    assert pages > 1
