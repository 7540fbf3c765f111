"""The console in Chromium (Debian's, driven by Playwright; no browser is downloaded) against a
served broker on the real stack: a staff member finds a dataset in the catalog and files from
the form, the task comes to the first CDO's open 待办 without a reload, the CDO narrows and
approves, the next approves, the staff member sees the grant; a rejection without a reason is
refused in words; another body's person gets "not found"; a form without the CSRF token is
refused; a CDO whose appointment ended can no longer decide, and is told so in words; the data
bureau's evaluation draws its charts with the vendored ECharts under the pages' CSP; no page,
`/docs` included, loads anything from another origin. Screenshots go to CONSOLE_SCREENSHOTS
(docs/console to renew the README's), else to .pytest_cache/console: a suite run leaves the
tracked ones alone."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from broker.people.service import NewPerson
from testing import REPO_ROOT
from testing.apps import served_broker
from testing.clients import ALL_SCOPES, Sessions, TokenFactory, bearer, decide
from testing.console import pending_at_fresh_provider
from testing.organisations import remove_cdo
from testing.people import new_person
from testing.settings import Settings

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium")
CHART_FITS = """() => [...document.querySelectorAll(".chart")].every((box) => {
    const drawn = box.querySelector("svg");
    return drawn && Math.abs(drawn.getBoundingClientRect().width - box.clientWidth) < 2;
})"""
SHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS") or REPO_ROOT / ".pytest_cache" / "console")
POLLED = 60_000  # ms: many of the tasks list's 5 s polls, on a machine several suites share
DATASET = (
    "gd-rst-social-insurance-enrolment"  # routed to 广州市人民政府, then 广东省人力资源社会保障厅
)


@pytest.fixture(scope="module")
async def broker_url(settings: Settings, seeded: object) -> AsyncIterator[str]:
    async with served_broker(settings) as url:
        yield url


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        pytest.fail("no chromium: deploy/local/bootstrap installs Debian's", pytrace=False)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield launched
        await launched.close()


async def _signed_in(browser: Browser, url: str, person: NewPerson) -> tuple[Page, list[str]]:
    """A page of a fresh browser context, signed in as `person`; and every URL it loads."""
    context = await browser.new_context(
        base_url=url, viewport={"width": 390, "height": 844}, locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )  # fmt: skip
    page = await context.new_page()
    loaded: list[str] = []
    page.on("request", lambda request: loaded.append(request.url))
    await page.goto("/console/signin")
    await page.get_by_label("用户名").fill(person.person.username)
    await page.get_by_label("密码").fill(person.password)
    await page.get_by_role("button", name="登录").click()
    await expect(page.locator(".who")).to_have_text(person.person.name)
    return page, loaded


async def _file(page: Page, fields: list[str]) -> str:
    """From the catalog: the dataset found by a word of its name, its form, filed."""
    await page.goto("/console/catalog")
    await page.get_by_label("名称或代码").fill("社会保险参保")
    await page.get_by_role("button", name="查询").click()
    await page.locator(f"li[id='{DATASET}'] summary").click()  # its fields
    await page.screenshot(path=SHOTS / "catalog.png", full_page=True)
    await page.locator(f"li[id='{DATASET}']").get_by_role("link", name="申请使用").click()
    for field in fields:
        await page.locator(f"input[name=fields][value={field}]").check()
    await page.get_by_label("用途").fill("社保待遇资格核验 / checking entitlement to benefits")
    await page.locator("#filing button[type=submit]").click()
    await expect(page.locator(".notice")).to_have_text("申请已提交")
    found = re.search(r"/console/requests/(req_[0-9a-z]+)", page.url)
    assert found, page.url
    return found.group(1)


async def test_filed_narrowed_approved_and_granted_in_the_browser(
    browser: Browser, broker_url: str, sessionmaker: Sessions, settings: Settings
) -> None:
    staff = await new_person(sessionmaker, settings, "gz-gaj", "staff")
    city_cdo = await new_person(sessionmaker, settings, "gz-gov", "cdo", appointed=True)
    province_cdo = await new_person(sessionmaker, settings, "gd-rst", "cdo", appointed=True)
    outsider = await new_person(sessionmaker, settings, "sz-gaj", "staff")

    # The CDO has 待办 open before anything is filed: the task must come to it
    cdo, cdo_loads = await _signed_in(browser, broker_url, city_cdo)
    await cdo.evaluate("() => { window.stillTheSamePage = true; }")

    filer, filer_loads = await _signed_in(browser, broker_url, staff)
    request_id = await _file(filer, ["id_number", "name", "insurance_type"])
    await filer.screenshot(path=SHOTS / "request-filed.png", full_page=True)

    task = cdo.locator(f"li[data-request='{request_id}']")
    await expect(task).to_be_visible(timeout=POLLED)  # htmx polls the list every 5 s
    assert await cdo.evaluate("() => window.stillTheSamePage === true")  # no reload
    await expect(task.locator(".left")).to_contain_text("剩余")
    await cdo.screenshot(path=SHOTS / "my-tasks.png", full_page=True)
    await task.get_by_role("link").click()

    # A rejection without a reason: refused in words, nothing changes
    await cdo.get_by_role("button", name="不同意").click()
    await expect(cdo.locator("#error")).to_have_text("不同意时须填写理由")
    # Narrowed: one field unticked
    await cdo.locator("input[name=fields][value=insurance_type]").uncheck()
    await cdo.get_by_label("审批意见 / 理由").fill("仅同意核验所需数据项")
    await cdo.screenshot(path=SHOTS / "decision.png", full_page=True)
    await cdo.get_by_role("button", name="同意 / 部分同意（缩小范围）").click()
    await expect(cdo.locator(".notice")).to_have_text("审批意见已提交")
    await expect(cdo.locator(".decision").first).to_contain_text(city_cdo.person.name)

    # A form posted without the CSRF token: refused, in words
    refused = await cdo.request.post(
        f"/console/requests/{request_id}/decision", form={"action": "approve"}
    )
    assert refused.status == 403
    assert "表单已失效" in await refused.text()

    province, province_loads = await _signed_in(browser, broker_url, province_cdo)
    await province.goto(f"/console/requests/{request_id}")
    # the fields are personal information: granting them, the CDO says why (minimisation)
    await province.get_by_label("审批意见 / 理由").fill("核验参保身份所需")
    await province.get_by_role("button", name="同意 / 部分同意（缩小范围）").click()
    await expect(province.locator(".status")).to_have_text("已同意")

    await filer.goto("/console/grants")
    grant = filer.locator(f"tr[data-request='{request_id}']")
    await expect(grant).to_contain_text("id_number, name")
    await expect(grant).not_to_contain_text("insurance_type")
    await filer.screenshot(path=SHOTS / "grants.png", full_page=True)

    stranger, stranger_loads = await _signed_in(browser, broker_url, outsider)
    answer = await stranger.goto(f"/console/requests/{request_id}")
    assert answer is not None
    assert answer.status == 404
    await expect(stranger.locator(".error")).to_have_text("未找到该申请，或您无权查看")

    await filer.goto(f"/console/requests/{request_id}?lang=en")
    await expect(filer.locator("html")).to_have_attribute("lang", "en")
    await expect(filer.locator(".status")).to_have_text("approved")

    await filer.goto("/docs")  # the API's own documentation: Swagger UI, served by the broker
    await expect(filer.locator(".swagger-ui .info .title")).to_contain_text("CDO")

    every_load = filer_loads + cdo_loads + province_loads + stranger_loads
    assert any("/docs/assets/" in u for u in every_load)
    assert every_load
    foreign = [u for u in every_load if not u.startswith(broker_url)]
    assert not foreign, foreign


async def test_a_cdo_whose_appointment_ended_decides_nothing(
    browser: Browser,
    broker_url: str,
    client: httpx.AsyncClient,
    sessionmaker: Sessions,
    settings: Settings,
    token_for: TokenFactory,
) -> None:
    # its own body: its CDO is removed below
    provider, filed = await pending_at_fresh_provider(client, token_for, sessionmaker)
    cdo = await new_person(sessionmaker, settings, provider, "cdo", appointed=True)
    request_id = filed["id"]

    page, _ = await _signed_in(browser, broker_url, cdo)
    await expect(page.locator(f"li[data-request='{request_id}']")).to_be_visible()
    await page.goto(f"/console/requests/{request_id}")
    approve = page.get_by_role("button", name="同意 / 部分同意（缩小范围）")
    await expect(approve).to_be_visible()

    # The city's bureau removes the CDO (免职) while the decision page is open
    await remove_cdo(client, bearer(await token_for("gz-dsb", "directory:admin")), provider)

    await approve.click()
    await expect(page.locator("#error")).to_have_text("您所在单位不是当前审批环节的审批单位")
    await expect(page.locator("#decide")).to_have_count(0)  # no form to try again
    requester = bearer(await token_for("gz-gaj", ALL_SCOPES))
    after = await client.get(f"/v1/requests/{request_id}", headers=requester)
    assert after.json()["status"] == "pending"
    assert after.json()["route"][0]["decisions"] == []
    await page.goto("/console/")
    await expect(page.locator(".empty")).to_be_visible()  # nothing left to decide


async def test_the_bureau_sees_its_evaluation_as_charts(
    browser: Browser,
    broker_url: str,
    client: httpx.AsyncClient,
    sessionmaker: Sessions,
    settings: Settings,
    token_for: TokenFactory,
) -> None:
    for decision in ("approve", "approve", "reject"):  # something to chart
        provider, filed = await pending_at_fresh_provider(client, token_for, sessionmaker)
        decided = await decide(
            client, bearer(await token_for(provider, ALL_SCOPES)), filed["id"],
            decision=decision, comment="用途与数据项不匹配" if decision == "reject" else None,
        )  # fmt: skip
        assert decided.status_code == 200, decided.text
    operator = await new_person(sessionmaker, settings, "gz-dsb", "bureau_operator")
    page, loads = await _signed_in(browser, broker_url, operator)
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: complaints.append(str(error)))

    await page.goto("/console/bureau/evaluation?group_by=body")

    for chart in ("#decisions-chart", "#hours-chart"):
        await expect(page.locator(chart)).to_have_attribute("data-drawn", re.compile(r"^[1-9]"))
        await expect(page.locator(f"{chart} svg")).to_have_count(1)
    await expect(page.locator("#csv")).to_have_text("下载 CSV")
    await page.set_viewport_size({"width": 1280, "height": 900})  # a bureau's desk
    await page.wait_for_function(CHART_FITS)  # redrawn at the new width
    await page.screenshot(path=SHOTS / "evaluation.png", full_page=True)
    await page.goto("/console/bureau/requests")
    await expect(page.locator("h1")).to_have_text("督办：滞留与超期申请")
    assert complaints == []  # a CSP violation or a script error would be reported here
    foreign = [u for u in loads if not u.startswith(broker_url)]
    assert not foreign, foreign
