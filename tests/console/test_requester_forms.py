"""The requesting body's staff in the console: they answer the clarification a CDO asked (the
step's clock runs again), withdraw a pending request, and see their grants with their uses.
Only the requester's staff may; a refusal is shown in words and changes nothing. Each is
audited with the person who did it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from broker.audit.actor import Actor
from broker.grants.uses import record_uses
from core.clock import utcnow
from testing.audit import actors_of
from testing.clients import ALL_SCOPES, Sessions, TokenFactory, bearer, decide
from testing.console import error_on, pending_at_fresh_provider
from testing.people import Console

pytestmark = pytest.mark.integration

OpenConsole = Callable[..., Awaitable[Console]]


async def _state(client: httpx.AsyncClient, token_for: TokenFactory, request_id: str) -> Any:
    headers = bearer(await token_for("gz-gaj", ALL_SCOPES))
    return (await client.get(f"/v1/requests/{request_id}", headers=headers)).json()


async def test_staff_answer_the_clarification_a_cdo_asked(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    provider, request = await pending_at_fresh_provider(client, token_for, sessionmaker)
    cdo = await console(provider, "cdo", appointed=True)
    staff = await console("gz-gaj", "staff")
    page = f"/console/requests/{request['id']}"

    unasked = await cdo.post(f"{page}/decision", {"action": "clarify", "comment": " "}, page=page)
    assert unasked.status_code == 422
    assert error_on(unasked) == "要求补充说明时须在“审批意见 / 理由”中写明问题"
    untouched = await _state(client, token_for, request["id"])
    assert untouched["route"][0]["on_hold_since"] is None  # nothing refused changes anything
    asked = await cdo.post(
        f"{page}/decision", {"action": "clarify", "comment": "请说明核验的业务场景"}, page=page
    )
    assert asked.status_code == 303
    held = await _state(client, token_for, request["id"])
    assert held["route"][0]["on_hold_since"] is not None
    assert await actors_of(sessionmaker, request["id"], "clarification.asked") == [
        Actor(provider, "console", cdo.person.person.id)
    ]

    shown = await staff.http.get(page)
    assert "请说明核验的业务场景" in shown.text
    assert 'id="answer-form"' in shown.text
    empty = await staff.post(f"{page}/answer", {"answer": "  "}, page=page)
    assert empty.status_code == 422
    assert error_on(empty) == "答复不能为空"

    answered = await staff.post(f"{page}/answer", {"answer": "用于社保待遇资格认证"}, page=page)

    assert answered.status_code == 303
    assert answered.headers["location"] == f"{page}?done=answered"
    after = await staff.http.get(answered.headers["location"])
    assert "答复已提交，审批恢复计时" in after.text
    assert "用于社保待遇资格认证" in after.text
    assert 'id="answer-form"' not in after.text
    resumed = await _state(client, token_for, request["id"])
    assert resumed["route"][0]["on_hold_since"] is None
    assert resumed["route"][0]["status"] == "pending"

    again = await staff.post(f"{page}/answer", {"answer": "再答一次"}, page=page)
    assert again.status_code == 409
    assert error_on(again).startswith("该申请当前的状态下不能办理此事项")
    assert await actors_of(sessionmaker, request["id"], "clarification.answered") == [
        Actor("gz-gaj", "console", staff.person.person.id)
    ]  # one: the refused answers wrote none


async def test_staff_withdraw_a_pending_request_and_others_may_not(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    _, request = await pending_at_fresh_provider(client, token_for, sessionmaker)
    page = f"/console/requests/{request['id']}"
    staff = await console("gz-gaj", "staff")
    own_cdo = await console("gz-gaj", "cdo")  # reads the body's requests, files none
    stranger = await console("gz-rsj", "staff")

    assert 'id="cancel-form"' in (await staff.http.get(page)).text
    assert 'id="cancel-form"' not in (await own_cdo.http.get(page)).text
    refused = await own_cdo.post(f"{page}/cancel", {"reason": "x"}, page=page)
    assert refused.status_code == 403
    assert error_on(refused) == "只有经办人可以办理申请单位的事项"
    not_theirs = await stranger.post(f"{page}/cancel", {}, page="/console/grants")
    assert not_theirs.status_code == 404
    assert (await _state(client, token_for, request["id"]))["status"] == "pending"
    assert await actors_of(sessionmaker, request["id"], "request.cancelled") == []

    cancelled = await staff.post(f"{page}/cancel", {"reason": "业务调整"}, page=page)

    assert cancelled.status_code == 303
    after = await staff.http.get(cancelled.headers["location"])
    assert "申请已撤回" in after.text
    assert 'id="cancel-form"' not in after.text
    state = await _state(client, token_for, request["id"])
    assert state["status"] == "cancelled"
    assert state["status_reason"] == "业务调整"
    assert await actors_of(sessionmaker, request["id"], "request.cancelled") == [
        Actor("gz-gaj", "console", staff.person.person.id)
    ]


async def test_staff_see_their_grants_and_their_uses(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    provider, request = await pending_at_fresh_provider(client, token_for, sessionmaker)
    approved = await decide(
        client, bearer(await token_for(provider, ALL_SCOPES)), request["id"], decision="approve"
    )
    assert approved.status_code == 200, approved.text
    grant_id = approved.json()["grant_id"]
    used_at = utcnow() - timedelta(hours=1)
    async with sessionmaker() as session:
        await record_uses(
            session, actor=Actor(provider, "guard"), uses=[(grant_id, 7, used_at)], now=utcnow()
        )
        await session.commit()
    staff = await console("gz-gaj", "staff")

    grants = await staff.http.get("/console/grants")

    row = re.search(rf'<tr id="{grant_id}".*?</tr>', grants.text, re.S)
    assert row, "the grant is not listed"
    uses = re.search(r'<td class="uses">(\d+)', row.group(0))
    assert uses, "no uses column"
    assert uses.group(1) == "7"
    assert "最近调用" in row.group(0)
