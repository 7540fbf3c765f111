"""The staff's filing form: a share request, or a return request (回流) naming a division of the
body's own jurisdiction; every dataset of the catalog to choose from, those not shareable marked;
the filing service's refusals said in words, filing nothing."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from core.clock import utcnow
from core.models.requests import DataRequest
from testing.clients import ALL_SCOPES, Sessions, TokenFactory, bearer
from testing.console import error_on
from testing.people import Console

pytestmark = pytest.mark.integration

OpenConsole = Callable[..., Awaitable[Console]]
PROVINCIAL = "gd-rst-social-insurance-enrolment"  # held above a Guangzhou department's level
FORM = "/console/requests/new"


def _filing(dataset_id: str, **changed: Any) -> dict[str, Any]:
    today = utcnow().date()
    return {
        "dataset_id": dataset_id, "fields": ["id_number"], "purpose": "核验本区参保人员身份",
        "start": today.isoformat(), "end": (today + timedelta(days=90)).isoformat(),
        "kind": "return", "jurisdiction": "440106", **changed,
    }  # fmt: skip


async def _filed_by(sessionmaker: Sessions, org_id: str) -> int:
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(DataRequest).where(DataRequest.requester_id == org_id)
        )
    return int(count or 0)


async def test_staff_file_a_return_for_a_division_of_their_jurisdiction(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    staff = await console("gz-gaj", "staff")
    form = await staff.http.get(f"{FORM}?dataset_id={PROVINCIAL}")
    divisions = re.findall(r'<option value="(\d{6})"', form.text)
    assert divisions[0] == "440100"  # the body's own division first, chosen
    assert '<option value="440100" selected>广州市人民政府（440100）</option>' in form.text
    assert {"440104", "440106"} <= set(divisions)
    assert "440300" not in divisions  # Shenzhen: not Guangzhou's
    assert 'name="kind" value="return"' in form.text

    filed = await staff.post(FORM, _filing(PROVINCIAL), page=FORM)

    assert filed.status_code == 303, error_on(filed)
    page = await staff.http.get(filed.headers["location"])
    assert "<h1>数据回流申请" in page.text
    assert re.search(r'id="jurisdiction">广州市天河区人民政府（440106）<', page.text)
    request_id = filed.headers["location"].split("/")[-1].split("?")[0]
    api = await client.get(
        f"/v1/requests/{request_id}", headers=bearer(await token_for("gz-gaj", ALL_SCOPES))
    )
    assert (api.json()["kind"], api.json()["jurisdiction"]) == ("return", "440106")


async def test_a_return_the_rules_refuse_is_said_in_words_and_files_nothing(
    console: OpenConsole, sessionmaker: Sessions
) -> None:
    staff = await console("gz-gaj", "staff")
    before = await _filed_by(sessionmaker, "gz-gaj")

    outside = await staff.post(FORM, _filing(PROVINCIAL, jurisdiction="440300"), page=FORM)
    same_level = await staff.post(FORM, _filing("gz-rsj-talent-green-card"), page=FORM)

    assert outside.status_code == 422
    assert error_on(outside) == (
        "申请内容不符合要求：行政区划 440300 不在本单位的管辖范围（440100）内"
    )
    assert 'name="kind" value="return" checked' in outside.text
    assert same_level.status_code == 422
    assert error_on(same_level).startswith("申请内容不符合要求：数据回流只适用于上级单位的数据")
    assert await _filed_by(sessionmaker, "gz-gaj") == before


async def test_a_dataset_not_shareable_is_offered_and_needs_a_legal_basis(
    console: OpenConsole, sessionmaker: Sessions
) -> None:
    staff = await console("gz-rsj", "staff")
    form = await staff.http.get(FORM)
    assert re.search(r'<option value="gd-gat-fugitives">[^<]*· 不予共享</option>', form.text)
    before = await _filed_by(sessionmaker, "gz-rsj")

    refused = await staff.post(
        FORM, _filing("gd-gat-fugitives", kind="share", fields=["name"]), page=FORM
    )

    assert refused.status_code == 422
    assert error_on(refused) == "该数据资源不予共享；有法律、法规依据的，请填写共享依据后提交"
    assert await _filed_by(sessionmaker, "gz-rsj") == before
