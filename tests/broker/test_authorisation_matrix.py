"""The authorisation matrix (issue 5): every endpoint x {no token, expired token, wrong scope,
right scope of another organisation, right caller} answers what the tables below say.

The parameters are generated from the app's own route table: an endpoint added to the app and
not to `MATRIX`, `PUBLIC` or `CLIENT_AUTH` fails `test_every_route_is_classified` and each of its
own matrix cases, so it cannot be left out. The scope each route needs is read off its
`require_scope` dependency and must match the table (`test_the_table_matches_the_dependencies`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from joserfc import jwt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.app import create_app
from broker.oauth.clients import create_client
from broker.oauth.keys import KeyRing
from broker.oauth.scopes import Scope
from core.models.directory import Organisation
from core.models.webhooks import WebhookDelivery
from testing.apps import broker_with
from testing.clients import TokenFactory, bearer
from testing.routes import app_routes
from testing.settings import Settings
from testing.workloads import request_body

pytestmark = pytest.mark.integration

# ---------------------------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------------------------

ANY_TOKEN = None  # directory and catalog reads: any valid token, whatever its scopes

# What "the right scope, but another organisation" answers, besides a 403/404:
HIDDEN = "2xx, without the owner's objects"  # per-organisation collections
SHARED = "2xx, the same as the owner sees"  # the directory, the catalog, the scheme's report
OWN = "2xx, acting on its own organisation"  # the call can only name the caller's own things

CASES = ("no-token", "expired-token", "wrong-scope", "other-org", "right")


@dataclass(frozen=True)
class Expect:
    scope: str | None  # the scope the route needs; ANY_TOKEN: any valid token
    right: int  # what the route documents for the right caller
    other: int | str  # 403, 404, or one of HIDDEN / SHARED / OWN
    in_service: bool = False  # the scope is checked by the service, not by a dependency

    @property
    def wrong_scope(self) -> int:
        return 200 if self.scope is ANY_TOKEN else 403


DIRECTORY_ADMIN = Scope.directory_admin.value
CATALOG_ADMIN = Scope.catalog_admin.value
SUBMIT = Scope.requests_submit.value
READ = Scope.requests_read.value
DECIDE = Scope.approvals_decide.value
GRANTS_READ = Scope.grants_read.value
GRANTS_REVOKE = Scope.grants_revoke.value
WEBHOOKS = Scope.webhooks_manage.value
REPORTS = Scope.reports_read.value
INTROSPECT = Scope.tokens_introspect.value

# Every bearer-protected route. Statuses for no token / expired token are always 401; a wrong
# scope is 403 naming `required_scope` (200 for ANY_TOKEN routes: they need no scope).
MATRIX: dict[tuple[str, str], Expect] = {
    # directory: reads for any token, shared by all; writes for directory admins, about bodies
    # in their jurisdiction (another city's bureau: 403 outside-jurisdiction; the full cross
    # product of callers and bodies is tests/broker/security/test_jurisdiction_matrix.py)
    ("GET", "/v1/organisations"): Expect(ANY_TOKEN, 200, SHARED),
    ("GET", "/v1/organisations/{organisation_id}"): Expect(ANY_TOKEN, 200, SHARED),
    ("POST", "/v1/organisations"): Expect(DIRECTORY_ADMIN, 201, 403),
    ("PATCH", "/v1/organisations/{organisation_id}"): Expect(DIRECTORY_ADMIN, 200, 403),
    ("GET", "/v1/organisations/{organisation_id}/appointments"): Expect(ANY_TOKEN, 200, SHARED),
    # the CDO roster: any token, for a body in the caller's jurisdiction (and only those listed)
    ("GET", "/v1/organisations/{organisation_id}/cdo-roster"): Expect(ANY_TOKEN, 200, 403),
    ("POST", "/v1/appointments"): Expect(DIRECTORY_ADMIN, 201, 403),
    ("POST", "/v1/appointments/{appointment_id}/end"): Expect(DIRECTORY_ADMIN, 200, 403),
    # a CDO delegates its own decisions: approvals:decide (or directory:admin), in the service
    ("POST", "/v1/delegations"): Expect(DECIDE, 201, 403, in_service=True),
    ("POST", "/v1/delegations/{delegation_id}/revoke"): Expect(DECIDE, 200, 403, in_service=True),
    ("GET", "/v1/organisations/{organisation_id}/delegations"): Expect(ANY_TOKEN, 200, SHARED),
    # catalog: reads for any token, writes for catalog admins whose jurisdiction has the owner
    ("GET", "/v1/datasets"): Expect(ANY_TOKEN, 200, SHARED),
    ("GET", "/v1/datasets/{dataset_id}"): Expect(ANY_TOKEN, 200, SHARED),
    ("POST", "/v1/datasets"): Expect(CATALOG_ADMIN, 201, 403),
    ("PATCH", "/v1/datasets/{dataset_id}"): Expect(CATALOG_ADMIN, 200, 403),
    ("POST", "/v1/datasets/{dataset_id}/publish"): Expect(CATALOG_ADMIN, 200, 403),
    # requests: a caller sees only what its organisation filed or must decide (404 otherwise)
    ("POST", "/v1/requests"): Expect(SUBMIT, 201, OWN),
    ("GET", "/v1/requests/{request_id}"): Expect(READ, 200, 404),
    ("GET", "/v1/requests"): Expect(READ, 200, HIDDEN),
    ("GET", "/v1/requests/{request_id}/timeline"): Expect(READ, 200, 404),
    ("POST", "/v1/requests/{request_id}/decision"): Expect(DECIDE, 200, 404),
    ("POST", "/v1/requests/{request_id}/cancel"): Expect(SUBMIT, 200, 404),
    ("POST", "/v1/requests/{request_id}/clarifications"): Expect(DECIDE, 201, 404),
    ("POST", "/v1/requests/{request_id}/clarifications/answer"): Expect(SUBMIT, 200, 404),
    ("POST", "/v1/requests/{request_id}/appeal"): Expect(SUBMIT, 201, 404),
    ("POST", "/v1/requests/{request_id}/appeal/decision"): Expect(DECIDE, 200, 404),
    # grants: grantee and provider read; the provider (or a data bureau above it) changes
    ("GET", "/v1/grants"): Expect(GRANTS_READ, 200, HIDDEN),
    ("GET", "/v1/grants/{grant_id}"): Expect(GRANTS_READ, 200, 404),
    ("POST", "/v1/grants/{grant_id}/revoke"): Expect(GRANTS_REVOKE, 200, 404),
    ("POST", "/v1/grants/{grant_id}/pause"): Expect(GRANTS_REVOKE, 200, 404),
    ("POST", "/v1/grants/{grant_id}/resume"): Expect(GRANTS_REVOKE, 200, 404),
    # a provider's guard: the changes of grants on its datasets, the uses it counted
    ("GET", "/v1/grants/changes"): Expect(GRANTS_READ, 200, HIDDEN),
    ("POST", "/v1/grants/uses"): Expect(INTROSPECT, 200, HIDDEN),
    # reports: the scheme-wide CDO evaluation, for holders of reports:read
    # a report's rows are the reader's jurisdiction's: another bureau sees its own bodies only
    ("GET", "/v1/reports/cdo-evaluation"): Expect(REPORTS, 200, HIDDEN),
    ("GET", "/v1/reports/cdo-scorecard"): Expect(REPORTS, 200, HIDDEN),
    ("GET", "/v1/evaluation/indicators"): Expect(REPORTS, 200, SHARED),
    ("POST", "/v1/evaluation/scores"): Expect(Scope.evaluation_score.value, 201, 403),
    # problem reports: any body files with the provincial bureau; the reporter and the bureau
    # see a report, the bureau answers it
    ("POST", "/v1/reports/problems"): Expect(SUBMIT, 201, OWN),
    ("GET", "/v1/reports/problems"): Expect(READ, 200, HIDDEN),
    ("GET", "/v1/reports/problems/{problem_id}"): Expect(READ, 200, 404),
    ("POST", "/v1/reports/problems/{problem_id}/answer"): Expect(DECIDE, 200, 404),
    # webhooks: always the caller's own endpoint and deliveries
    ("PUT", "/v1/webhooks/endpoint"): Expect(WEBHOOKS, 200, OWN),
    ("GET", "/v1/webhooks/endpoint"): Expect(WEBHOOKS, 200, 404),
    ("POST", "/v1/webhooks/endpoint/rotate-secret"): Expect(WEBHOOKS, 200, 404),
    ("GET", "/v1/webhooks/deliveries"): Expect(WEBHOOKS, 200, HIDDEN),
    ("GET", "/v1/webhooks/deliveries/{delivery_id}"): Expect(WEBHOOKS, 200, 404),
    ("POST", "/v1/webhooks/deliveries/replay"): Expect(WEBHOOKS, 200, HIDDEN),
    ("POST", "/v1/webhooks/deliveries/{delivery_id}/replay"): Expect(WEBHOOKS, 200, 404),
    # notification channels: always the caller's own
    ("GET", "/v1/notifications/channels"): Expect(WEBHOOKS, 200, HIDDEN),
    ("PUT", "/v1/notifications/channels/{kind}"): Expect(WEBHOOKS, 200, OWN),
    ("GET", "/v1/notifications/channels/{kind}"): Expect(WEBHOOKS, 200, 404),
    ("DELETE", "/v1/notifications/channels/{kind}"): Expect(WEBHOOKS, 204, 404),
}

# No authentication at all: probes, key discovery, the API's own documentation.
PUBLIC: set[tuple[str, str]] = {
    ("GET", "/healthz"),
    ("GET", "/metrics"),  # operators scrape it; it holds counts, no request data
    ("GET", "/readyz"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/console/signin"),
    # the unified sign-on: leaving for the provider, and its answer (checked against the flow
    # this browser started: tests/console/test_upstream_signin.py)
    ("GET", "/console/signin/upstream"),
    ("GET", "/console/signin/upstream/callback"),
}

# A person's browser session (the console's cookie), not bearer tokens: without one, the page
# sends the browser to sign in (`test_session_routes_send_strangers_to_sign_in`).
PERSON_SESSION: set[tuple[str, str]] = {
    ("GET", "/oauth/authorize"),
    ("GET", "/oauth/logout"),
    ("GET", "/console/"),
    ("GET", "/console/tasks"),
    ("GET", "/console/grants"),
    ("GET", "/console/requests"),
    ("GET", "/console/requests/new"),
    ("GET", "/console/requests/{request_id}"),
    ("POST", "/console/requests/new"),
    ("POST", "/console/requests/{request_id}/decision"),
    ("POST", "/console/requests/{request_id}/answer"),
    ("POST", "/console/requests/{request_id}/cancel"),
    ("GET", "/console/signout"),
    ("POST", "/console/requests/{request_id}/appeal"),
    ("POST", "/console/requests/{request_id}/appeal/decision"),
    ("GET", "/console/problems"),
    ("GET", "/console/problems/new"),
    ("POST", "/console/problems/new"),
    ("GET", "/console/problems/{problem_id}"),
    ("POST", "/console/problems/{problem_id}/answer"),
    ("POST", "/console/signout"),
    ("GET", "/console/catalog"),
    # the data bureau's pages (a bureau's people only: tests/console/test_bureau_pages.py)
    ("GET", "/console/bureau/requests"),
    ("GET", "/console/bureau/grants"),
    ("POST", "/console/bureau/grants/{grant_id}/{action}"),
    ("GET", "/console/bureau/directory"),
    ("POST", "/console/bureau/appointments/{appointment_id}/end"),
    ("POST", "/console/bureau/delegations/{delegation_id}/revoke"),
    ("GET", "/console/bureau/evaluation"),
    ("GET", "/console/bureau/evaluation.json"),
    ("GET", "/console/bureau/evaluation.csv"),
}
SIGN_IN_FORM = ("POST", "/console/signin")  # double-submit CSRF before any session exists

# A person's access token (authorization code flow): a system's token gets 403.
PERSON_TOKEN: set[tuple[str, str]] = {("GET", "/oauth/userinfo")}

# OAuth client authentication (client_secret_basic / client_secret_post), not bearer tokens.
CLIENT_AUTH: set[tuple[str, str]] = {
    ("POST", "/oauth/token"),
    ("POST", "/oauth/introspect"),
    ("POST", "/oauth/revoke"),
}

# ---------------------------------------------------------------------------------------------
# The route table, read off the app
# ---------------------------------------------------------------------------------------------


ROUTES = app_routes(create_app())  # collection time: no lifespan, nothing is connected
NOT_IN_MATRIX = PUBLIC | CLIENT_AUTH | PERSON_SESSION | PERSON_TOKEN | {SIGN_IN_FORM}
CLASSIFIED = set(MATRIX) | NOT_IN_MATRIX


def _id(route: tuple[str, str]) -> str:
    return f"{route[0]} {route[1]}"


def test_every_route_is_classified() -> None:
    unclassified = sorted(set(ROUTES) - CLASSIFIED)
    assert not unclassified, f"add these routes to MATRIX, PUBLIC or CLIENT_AUTH: {unclassified}"
    gone = sorted(CLASSIFIED - set(ROUTES))
    assert not gone, f"the table names routes the app no longer has: {gone}"
    assert not set(MATRIX) & NOT_IN_MATRIX


async def test_the_live_app_serves_the_same_routes(app: FastAPI) -> None:
    assert app_routes(app) == ROUTES


@pytest.mark.parametrize("route", sorted(ROUTES), ids=_id)
def test_the_table_matches_the_dependencies(route: tuple[str, str]) -> None:
    guard = ROUTES[route]
    if route in PERSON_TOKEN:
        assert guard.authenticated, guard
        assert guard.scopes == frozenset(), guard
        return
    if route in NOT_IN_MATRIX:
        assert not guard.authenticated, f"{_id(route)} is classified public but wants a token"
        return
    assert route in MATRIX, f"{_id(route)} is not classified"
    expect = MATRIX[route]
    assert guard.authenticated, f"{_id(route)} does not depend on `authenticated`"
    if expect.scope is ANY_TOKEN or expect.in_service:
        assert guard.scopes == frozenset(), guard
    else:
        assert guard.scopes == {expect.scope}, guard


# ---------------------------------------------------------------------------------------------
# The world the calls act on
# ---------------------------------------------------------------------------------------------

Sessions = async_sessionmaker[AsyncSession]

REQUESTER = "gz-gaj"  # 广州市公安局 files the requests
APPROVER = "gz-rsj"  # 广州市人社局: its CDO decides on its conditional dataset
PROVIDER = "gd-rst"  # 省人社厅: provides the unconditional dataset, so it may change the grant
STRANGER = "sz-gaj"  # 深圳市公安局: involved in none of it
COORDINATOR = "gz-gov"  # 广州市人民政府: its CDO coordinates appeals against APPROVER
ADMIN = "gd-dsb"  # the provincial data bureau
OTHER_ADMIN = "sz-dsb"  # Shenzhen's data bureau
UNCONDITIONAL = ("gd-rst-labour-dispatch-licences", ["licence_number"])
CONDITIONAL = ("gz-rsj-talent-green-card", ["card_number", "name"])
PUBLIC_URL = "https://93.184.215.14/hooks/cdo"  # a public address literal: no DNS needed
ROBOT_URL = "https://93.184.215.14/cgi-bin/webhook/send?key=authz-robot-key-0001"
# Everything an organisation's system may hold, bar the admin scopes. A "wrong scope" token has
# all of these except the one the route needs: exactly that one scope is missing.
NON_ADMIN_SCOPES = sorted({s.value for s in Scope} - {DIRECTORY_ADMIN, CATALOG_ADMIN})


@dataclass
class Call:
    path: str
    owner: str  # who calls in the right case (and the wrong-scope and expired cases)
    other: str = STRANGER  # who calls in the other-organisation case
    json: Any = None
    params: dict[str, str] | None = None
    shows: Callable[[Any], bool] | None = None  # does a 2xx body show the owner's object?
    acts_as: str | None = None  # the answer's field naming the organisation acted for


class World:
    def __init__(
        self, client: httpx.AsyncClient, sessionmaker: Sessions, token_for: TokenFactory
    ) -> None:
        self.client = client
        self.sessionmaker = sessionmaker
        self.token_for = token_for
        self.tokens: dict[tuple[str, str], str] = {}
        # filled by the fixture
        self.request_id = self.grant_id = self.dataset_id = self.problem_id = ""
        self.hook_owner = self.hook_stranger = self.delivery_id = self.channel_id = ""

    async def token(self, org: str, scope: str) -> str:
        if (org, scope) not in self.tokens:
            self.tokens[(org, scope)] = await self.token_for(org, scope)
        return self.tokens[(org, scope)]

    async def as_(self, org: str, scope: str) -> dict[str, str]:
        return bearer(await self.token(org, scope))

    async def file(self, dataset: tuple[str, list[str]]) -> dict[str, Any]:
        response = await self.client.post(
            "/v1/requests",
            headers=await self.as_(REQUESTER, SUBMIT),
            json=request_body(dataset[0], dataset[1]),
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def conditional(self) -> str:
        request = await self.file(CONDITIONAL)
        assert request["status"] == "pending", request
        current = [a["organisation_id"] for a in request["route"][0]["approvers"] if a["current"]]
        assert current == [APPROVER], request["route"]
        return str(request["id"])

    async def _then(
        self, request_id: str, step: str, org: str, scope: str, body: dict[str, str], status: int
    ) -> str:
        """`org` takes `step` on the request (e.g. `appeal`), which must answer `status`."""
        answer = await self.client.post(
            f"/v1/requests/{request_id}/{step}", headers=await self.as_(org, scope), json=body
        )
        assert answer.status_code == status, answer.text
        return request_id

    async def clarifying(self) -> str:
        question = {"question": "用途是否限于人才住房审核?"}
        return await self._then(
            await self.conditional(), "clarifications", APPROVER, DECIDE, question, 201
        )

    async def rejected(self) -> str:
        """A conditional request APPROVER rejected: REQUESTER may appeal it."""
        rejection = {"decision": "reject", "comment": "用途不明确"}
        return await self._then(
            await self.conditional(), "decision", APPROVER, DECIDE, rejection, 200
        )

    async def appealed(self) -> str:
        """A rejected request REQUESTER appealed: gz-gov (APPROVER's government) coordinates."""
        reason = {"reason": "用于人才住房审核，请求协调"}
        return await self._then(await self.rejected(), "appeal", REQUESTER, SUBMIT, reason, 201)

    async def grant(self, paused: bool = False) -> str:
        request = await self.file(UNCONDITIONAL)
        assert request["grant_id"], request
        grant_id = str(request["grant_id"])
        if paused:
            response = await self.client.post(
                f"/v1/grants/{grant_id}/pause",
                headers=await self.as_(PROVIDER, GRANTS_REVOKE),
                json={"reason": "核查使用情况"},
            )
            assert response.status_code == 200, response.text
        return grant_id

    async def problem(self) -> str:
        """A problem report REQUESTER files about its request and APPROVER."""
        response = await self.client.post(
            "/v1/reports/problems",
            headers=await self.as_(REQUESTER, SUBMIT),
            json=problem_body(self.request_id),
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def organisation(self) -> str:
        """A fresh provincial department without a CDO (an appointment of its own each time)."""
        org_id = f"authz-{uuid.uuid4().hex[:12]}"
        async with self.sessionmaker() as session:
            session.add(
                Organisation(
                    id=org_id,
                    name="授权测试厅",
                    name_en="Authorisation test department",
                    kind="department",
                    level="province",
                    division_code="440000",
                    government_id="gd-gov",
                    pilot=True,
                )
            )
            await session.commit()
        return org_id

    async def appointment(self) -> str:
        response = await self.client.post(
            "/v1/appointments",
            headers=await self.as_(ADMIN, DIRECTORY_ADMIN),
            json=appointment_body(await self.organisation()),
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def robot(self, org_id: str) -> str:
        """A WeCom group robot for `org_id`; its channel id."""
        registered = await self.client.put(
            "/v1/notifications/channels/wecom",
            headers=await self.as_(org_id, WEBHOOKS),
            json={"webhook_url": ROBOT_URL},
        )
        assert registered.status_code in (200, 201), registered.text
        return str(registered.json()["id"])

    async def dead_delivery(self) -> str:
        delivery_id = f"msg_{uuid.uuid4().hex}"
        now = datetime.now(UTC)
        async with self.sessionmaker() as session:
            session.add(
                WebhookDelivery(
                    id=delivery_id,
                    organisation_id=self.hook_owner,
                    event_type="approval.requested",
                    ce_id=str(uuid.uuid4()),
                    request_id=self.request_id,
                    payload={"type": "approval.requested", "timestamp": now.isoformat()},
                    status="dead",
                    attempts=0,
                    created_at=now,
                    dead_at=now,
                )
            )
            await session.commit()
        return delivery_id


def appointment_body(org_id: str) -> dict[str, Any]:
    return {
        "organisation_id": org_id,
        "person_name": "陈测试",
        "title": "副厅长",
        "appointed_by": "授权测试厅党组",
        "filed_with_id": ADMIN,
        "starts_at": "2024-01-01T00:00:00+08:00",
    }


def problem_body(request_id: str) -> dict[str, Any]:
    return {
        "summary": "审批单位逾期未答复",
        "details": "申请已提交多日未获答复。",
        "concerns": {"organisations": [APPROVER], "requests": [request_id]},
    }


def _window(**delta: float) -> tuple[str, str]:
    now = datetime.now(UTC)
    return (now - timedelta(**delta)).isoformat(), (now + timedelta(**delta)).isoformat()


def _ids(body: Any) -> set[str]:
    items = body["items"] if isinstance(body, dict) else body
    return {str(item["id"]) for item in items}


@pytest.fixture(scope="module")
async def world(
    client: httpx.AsyncClient, sessionmaker: Sessions, token_for: TokenFactory
) -> World:
    w = World(client, sessionmaker, token_for)
    w.request_id = await w.conditional()
    w.problem_id = await w.problem()
    w.grant_id = await w.grant()
    dataset_id = f"authz-{uuid.uuid4().hex[:12]}"
    created = await client.post(
        "/v1/datasets",
        headers=await w.as_(ADMIN, CATALOG_ADMIN),
        json=dataset_body(dataset_id),
    )
    assert created.status_code == 201, created.text
    w.dataset_id = dataset_id
    w.hook_owner = await w.organisation()
    w.hook_stranger = await w.organisation()
    registered = await client.put(
        "/v1/webhooks/endpoint",
        headers=await w.as_(w.hook_owner, WEBHOOKS),
        json={"url": PUBLIC_URL},
    )
    assert registered.status_code == 201, registered.text
    w.channel_id = await w.robot(w.hook_owner)
    w.delivery_id = await w.dead_delivery()
    return w


def dataset_body(dataset_id: str) -> dict[str, Any]:
    return {
        "id": dataset_id,
        "name": "授权测试数据",
        "name_en": "Authorisation test data",
        "owner_id": PROVIDER,
        "sharing_class": "conditional",
        "fields": [{"name": "licence_number", "label": "许可证编号"}],
    }


# ---------------------------------------------------------------------------------------------
# How to call each protected route: fresh objects for the calls that change something
# ---------------------------------------------------------------------------------------------

Builder = Callable[[World], Awaitable[Call]]
BUILDERS: dict[tuple[str, str], Builder] = {}


def builds(method: str, path: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        BUILDERS[(method, path)] = builder
        return builder

    return register


@builds("GET", "/v1/organisations")
async def _(w: World) -> Call:
    return Call(
        "/v1/organisations",
        REQUESTER,
        params={"government_id": "gz-gov"},
        shows=lambda body: REQUESTER in _ids(body),
    )


@builds("GET", "/v1/organisations/{organisation_id}")
async def _(w: World) -> Call:
    return Call(f"/v1/organisations/{REQUESTER}", REQUESTER, shows=lambda b: b["id"] == REQUESTER)


@builds("POST", "/v1/organisations")
async def _(w: World) -> Call:
    org_id = f"authz-{uuid.uuid4().hex[:12]}"
    body = {
        "id": org_id,
        "name": "授权测试厅",
        "name_en": "Authorisation test department",
        "kind": "department",
        "level": "province",
        "division_code": "440000",
        "government_id": "gd-gov",
    }
    return Call("/v1/organisations", ADMIN, OTHER_ADMIN, json=body)


@builds("PATCH", "/v1/organisations/{organisation_id}")
async def _(w: World) -> Call:
    body = {"name_en": "Authorisation test department (renamed)"}
    return Call(f"/v1/organisations/{await w.organisation()}", ADMIN, OTHER_ADMIN, json=body)


@builds("GET", "/v1/organisations/{organisation_id}/appointments")
async def _(w: World) -> Call:
    return Call(
        f"/v1/organisations/{REQUESTER}/appointments",
        REQUESTER,
        shows=lambda body: any(a["organisation_id"] == REQUESTER for a in body),
    )


@builds("GET", "/v1/organisations/{organisation_id}/cdo-roster")
async def _(w: World) -> Call:
    return Call("/v1/organisations/gz-gov/cdo-roster", ADMIN, OTHER_ADMIN)


@builds("POST", "/v1/appointments")
async def _(w: World) -> Call:
    body = appointment_body(await w.organisation())
    return Call("/v1/appointments", ADMIN, OTHER_ADMIN, json=body)


@builds("POST", "/v1/appointments/{appointment_id}/end")
async def _(w: World) -> Call:
    path = f"/v1/appointments/{await w.appointment()}/end"
    return Call(path, ADMIN, OTHER_ADMIN, json={"reason": "调任"})


@builds("POST", "/v1/delegations")
async def _(w: World) -> Call:
    start, end = datetime.now(UTC), datetime.now(UTC) + timedelta(days=14)
    body = {
        "organisation_id": REQUESTER,  # the other organisation tries to delegate for gz-gaj's CDO
        "delegate_name": "王副手",
        "delegate_title": "处长",
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
        "reason": "出差",
    }
    return Call("/v1/delegations", REQUESTER, json=body)


@builds("POST", "/v1/delegations/{delegation_id}/revoke")
async def _(w: World) -> Call:
    start, end = datetime.now(UTC), datetime.now(UTC) + timedelta(days=14)
    created = await w.client.post(
        "/v1/delegations",
        headers=await w.as_(REQUESTER, DECIDE),
        json={
            "delegate_name": "王副手",
            "delegate_title": "处长",
            "starts_at": start.isoformat(),
            "ends_at": end.isoformat(),
        },
    )
    assert created.status_code == 201, created.text
    path = f"/v1/delegations/{created.json()['id']}/revoke"
    return Call(path, REQUESTER, json={"reason": "提前返岗"})


@builds("GET", "/v1/organisations/{organisation_id}/delegations")
async def _(w: World) -> Call:
    return Call(f"/v1/organisations/{REQUESTER}/delegations", REQUESTER)


@builds("GET", "/v1/datasets")
async def _(w: World) -> Call:
    return Call(
        "/v1/datasets",
        REQUESTER,
        params={"owner_id": PROVIDER},
        shows=lambda body: UNCONDITIONAL[0] in _ids(body),
    )


@builds("GET", "/v1/datasets/{dataset_id}")
async def _(w: World) -> Call:
    return Call(
        f"/v1/datasets/{UNCONDITIONAL[0]}", REQUESTER, shows=lambda b: b["id"] == UNCONDITIONAL[0]
    )


@builds("POST", "/v1/datasets")
async def _(w: World) -> Call:
    body = dataset_body(f"authz-{uuid.uuid4().hex[:12]}")
    return Call("/v1/datasets", ADMIN, OTHER_ADMIN, json=body)


@builds("PATCH", "/v1/datasets/{dataset_id}")
async def _(w: World) -> Call:
    body = {"name_en": "Authorisation test data (renamed)"}
    return Call(f"/v1/datasets/{w.dataset_id}", ADMIN, OTHER_ADMIN, json=body)


@builds("POST", "/v1/datasets/{dataset_id}/publish")
async def _(w: World) -> Call:
    return Call(f"/v1/datasets/{w.dataset_id}/publish", ADMIN, OTHER_ADMIN)


@builds("POST", "/v1/requests")
async def _(w: World) -> Call:
    body = request_body(CONDITIONAL[0], CONDITIONAL[1])
    return Call("/v1/requests", REQUESTER, json=body, acts_as="requester_id")


@builds("GET", "/v1/requests/{request_id}")
async def _(w: World) -> Call:
    return Call(f"/v1/requests/{w.request_id}", REQUESTER, shows=lambda b: b["id"] == w.request_id)


@builds("GET", "/v1/requests/{request_id}/timeline")
async def _(w: World) -> Call:
    return Call(
        f"/v1/requests/{w.request_id}/timeline",
        REQUESTER,
        shows=lambda b: b["request_id"] == w.request_id,
    )


@builds("GET", "/v1/requests")
async def _(w: World) -> Call:
    return Call(
        "/v1/requests",
        REQUESTER,
        params={"dataset_id": CONDITIONAL[0]},
        shows=lambda body: w.request_id in _ids(body),
    )


@builds("POST", "/v1/requests/{request_id}/decision")
async def _(w: World) -> Call:
    path = f"/v1/requests/{await w.conditional()}/decision"
    return Call(path, APPROVER, json={"decision": "approve", "comment": "依职责所需"})


@builds("POST", "/v1/requests/{request_id}/cancel")
async def _(w: World) -> Call:
    path = f"/v1/requests/{await w.conditional()}/cancel"
    return Call(path, REQUESTER, json={"reason": "不再需要"})


@builds("POST", "/v1/requests/{request_id}/clarifications")
async def _(w: World) -> Call:
    path = f"/v1/requests/{await w.conditional()}/clarifications"
    return Call(path, APPROVER, json={"question": "用途是否限于人才住房审核?"})


@builds("POST", "/v1/requests/{request_id}/clarifications/answer")
async def _(w: World) -> Call:
    path = f"/v1/requests/{await w.clarifying()}/clarifications/answer"
    return Call(path, REQUESTER, json={"answer": "是,仅限人才住房审核"})


@builds("POST", "/v1/requests/{request_id}/appeal")
async def _(w: World) -> Call:
    path = f"/v1/requests/{await w.rejected()}/appeal"
    return Call(path, REQUESTER, json={"reason": "用于人才住房审核，请求协调"})


@builds("POST", "/v1/requests/{request_id}/appeal/decision")
async def _(w: World) -> Call:
    path = f"/v1/requests/{await w.appealed()}/appeal/decision"
    return Call(path, COORDINATOR, json={"decision": "uphold", "comment": "维持原决定"})


@builds("GET", "/v1/grants")
async def _(w: World) -> Call:
    return Call(
        "/v1/grants",
        REQUESTER,
        params={"dataset_id": UNCONDITIONAL[0]},
        shows=lambda body: w.grant_id in _ids(body),
    )


@builds("GET", "/v1/grants/{grant_id}")
async def _(w: World) -> Call:
    return Call(f"/v1/grants/{w.grant_id}", REQUESTER, shows=lambda b: b["id"] == w.grant_id)


@builds("POST", "/v1/grants/{grant_id}/revoke")
async def _(w: World) -> Call:
    path = f"/v1/grants/{await w.grant()}/revoke"
    return Call(path, PROVIDER, json={"reason": "超出用途使用"})


@builds("POST", "/v1/grants/{grant_id}/pause")
async def _(w: World) -> Call:
    return Call(f"/v1/grants/{await w.grant()}/pause", PROVIDER, json={"reason": "核查使用情况"})


@builds("POST", "/v1/grants/{grant_id}/resume")
async def _(w: World) -> Call:
    return Call(f"/v1/grants/{await w.grant(paused=True)}/resume", PROVIDER, json={})


@builds("GET", "/v1/grants/changes")
async def _(w: World) -> Call:
    # from the start of the feed, without following: every change of the provider's grants
    return Call(
        "/v1/grants/changes",
        PROVIDER,
        params={"after": "0-0", "follow": "false"},
        shows=lambda events: w.grant_id in {e["data"].get("grant_id") for e in events},
    )


@builds("POST", "/v1/grants/uses")
async def _(w: World) -> Call:
    used = {"grant_id": w.grant_id, "count": 1, "last_used_at": datetime.now(UTC).isoformat()}
    return Call(
        "/v1/grants/uses",
        PROVIDER,
        json={"uses": [used]},
        shows=lambda body: w.grant_id in body["counted"],
    )


def _shows_requester(body: Any) -> bool:
    return any(row["organisation_id"] == REQUESTER for row in body["rows"])


def _report(path: str) -> Call:
    start, end = _window(days=30)
    return Call(path, ADMIN, OTHER_ADMIN, params={"from": start, "to": end}, shows=_shows_requester)


@builds("GET", "/v1/reports/cdo-evaluation")
async def _(w: World) -> Call:
    return _report("/v1/reports/cdo-evaluation")


@builds("GET", "/v1/reports/cdo-scorecard")
async def _(w: World) -> Call:
    return _report("/v1/reports/cdo-scorecard")


@builds("GET", "/v1/evaluation/indicators")
async def _(w: World) -> Call:
    return Call("/v1/evaluation/indicators", ADMIN, OTHER_ADMIN, shows=lambda b: b["indicators"])


@builds("POST", "/v1/evaluation/scores")
async def _(w: World) -> Call:
    period = {"period_start": "2026-01-01", "period_end": "2027-01-01"}
    body = {"organisation_id": REQUESTER, "indicator": "daily_management", "score": 80,
            "comment": "授权测试评分", **period}  # fmt: skip
    return Call("/v1/evaluation/scores", ADMIN, OTHER_ADMIN, json=body)


@builds("POST", "/v1/reports/problems")
async def _(w: World) -> Call:
    # the other organisation files a report of its own (it may not name REQUESTER's request)
    body = problem_body(w.request_id) | {"concerns": {"organisations": [APPROVER]}}
    return Call("/v1/reports/problems", REQUESTER, json=body, acts_as="reporter_id")


@builds("GET", "/v1/reports/problems")
async def _(w: World) -> Call:
    return Call(
        "/v1/reports/problems",
        REQUESTER,
        params={"role": "reporter"},
        shows=lambda body: w.problem_id in _ids(body),
    )


@builds("GET", "/v1/reports/problems/{problem_id}")
async def _(w: World) -> Call:
    return Call(
        f"/v1/reports/problems/{w.problem_id}", REQUESTER, shows=lambda b: b["id"] == w.problem_id
    )


@builds("POST", "/v1/reports/problems/{problem_id}/answer")
async def _(w: World) -> Call:
    path = f"/v1/reports/problems/{await w.problem()}/answer"
    return Call(path, ADMIN, json={"resolution": "已协调审批单位答复"})


@builds("PUT", "/v1/webhooks/endpoint")
async def _(w: World) -> Call:
    # the other organisation can only register its own endpoint (a fresh body: the first PUT)
    return Call(
        "/v1/webhooks/endpoint",
        w.hook_owner,
        await w.organisation(),
        json={"url": PUBLIC_URL},
        acts_as="organisation_id",
    )


@builds("GET", "/v1/webhooks/endpoint")
async def _(w: World) -> Call:
    return Call(
        "/v1/webhooks/endpoint",
        w.hook_owner,
        w.hook_stranger,
        shows=lambda b: b["organisation_id"] == w.hook_owner,
    )


@builds("POST", "/v1/webhooks/endpoint/rotate-secret")
async def _(w: World) -> Call:
    return Call("/v1/webhooks/endpoint/rotate-secret", w.hook_owner, w.hook_stranger, json={})


@builds("GET", "/v1/webhooks/deliveries")
async def _(w: World) -> Call:
    return Call(
        "/v1/webhooks/deliveries",
        w.hook_owner,
        w.hook_stranger,
        shows=lambda body: w.delivery_id in _ids(body),
    )


@builds("GET", "/v1/webhooks/deliveries/{delivery_id}")
async def _(w: World) -> Call:
    return Call(
        f"/v1/webhooks/deliveries/{w.delivery_id}",
        w.hook_owner,
        w.hook_stranger,
        shows=lambda b: b["id"] == w.delivery_id,
    )


@builds("POST", "/v1/webhooks/deliveries/replay")
async def _(w: World) -> Call:
    await w.dead_delivery()  # a fresh dead one in the window: the owner's replay finds it
    start, end = _window(hours=1)
    return Call(
        "/v1/webhooks/deliveries/replay",
        w.hook_owner,
        w.hook_stranger,
        json={"from": start, "to": end},
        shows=lambda body: body["requeued"] > 0,
    )


@builds("POST", "/v1/webhooks/deliveries/{delivery_id}/replay")
async def _(w: World) -> Call:
    path = f"/v1/webhooks/deliveries/{await w.dead_delivery()}/replay"
    return Call(path, w.hook_owner, w.hook_stranger, json={})


@builds("GET", "/v1/notifications/channels")
async def _(w: World) -> Call:
    return Call(
        "/v1/notifications/channels",
        w.hook_owner,
        w.hook_stranger,
        shows=lambda body: w.channel_id in _ids(body),
    )


@builds("PUT", "/v1/notifications/channels/{kind}")
async def _(w: World) -> Call:
    # the other organisation can only register its own channel
    return Call(
        "/v1/notifications/channels/wecom",
        w.hook_owner,
        await w.organisation(),
        json={"webhook_url": ROBOT_URL},
        acts_as="organisation_id",
    )


@builds("GET", "/v1/notifications/channels/{kind}")
async def _(w: World) -> Call:
    return Call(
        "/v1/notifications/channels/wecom",
        w.hook_owner,
        w.hook_stranger,
        shows=lambda b: b["id"] == w.channel_id,
    )


@builds("DELETE", "/v1/notifications/channels/{kind}")
async def _(w: World) -> Call:
    owner = await w.organisation()  # a channel of its own to remove, each case
    await w.robot(owner)
    return Call("/v1/notifications/channels/wecom", owner, w.hook_stranger)


def test_every_protected_route_has_a_builder() -> None:
    assert set(BUILDERS) == set(MATRIX)


# ---------------------------------------------------------------------------------------------
# The matrix
# ---------------------------------------------------------------------------------------------


def expired(token: str, keyring: KeyRing, seconds_ago: int = 60) -> str:
    """The same token, signed again by the broker's own key, but expired `seconds_ago`."""
    claims = dict(jwt.decode(token, keyring.verification_keys).claims)
    now = int(time.time())
    claims |= {"iat": now - 1000, "exp": now - seconds_ago, "jti": uuid.uuid4().hex}
    key = keyring.signing_key
    header = {"alg": "RS256", "typ": "at+jwt", "kid": key.kid}
    return jwt.encode(header, claims, key)


async def test_a_forged_token_is_refused_for_its_expiry_alone(
    world: World, client: httpx.AsyncClient, app: FastAPI
) -> None:
    """The control for the expired-token column: the same forgery, still valid, is accepted."""
    token = await world.token(REQUESTER, READ)
    still_valid = expired(token, app.state.keyring, seconds_ago=-300)
    response = await client.get(f"/v1/requests/{world.request_id}", headers=bearer(still_valid))
    assert response.status_code == 200, response.text


def _matrix_params() -> Iterator[Any]:
    for route in sorted(ROUTES):
        if route in NOT_IN_MATRIX:
            continue
        for case in CASES:
            yield pytest.param(route, case, id=f"{_id(route)} | {case}")


def _body(response: httpx.Response) -> Any:
    """JSON, or for an event stream its events as `{"event", "data"}`."""
    if not response.headers.get("content-type", "").startswith("text/event-stream"):
        return response.json()
    events = []
    for block in response.text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            events.append({"event": fields.get("event"), "data": json.loads(fields["data"])})
    return events


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status, body
    return body


@pytest.mark.parametrize(("route", "case"), list(_matrix_params()))
async def test_authorisation_matrix(
    route: tuple[str, str], case: str, world: World, client: httpx.AsyncClient, app: FastAPI
) -> None:
    assert route in MATRIX, f"{_id(route)} is not classified: add it to MATRIX"
    expect = MATRIX[route]
    call = await BUILDERS[route](world)
    method = route[0]
    scope = expect.scope or READ  # any token will do: one with requests:read

    headers: dict[str, str] = {}
    caller = call.owner
    if case == "expired-token":
        headers = bearer(expired(await world.token(caller, scope), app.state.keyring))
    elif case == "wrong-scope":
        lacking = " ".join(s for s in NON_ADMIN_SCOPES if s != expect.scope)
        if expect.scope is ANY_TOKEN:
            lacking = Scope.tokens_introspect.value  # no scope of the JSON API at all
        headers = await world.as_(caller, lacking)
    elif case == "other-org":
        caller = call.other
        headers = await world.as_(caller, scope)
    elif case == "right":
        headers = await world.as_(caller, scope)

    response = await client.request(
        method, call.path, headers=headers, json=call.json, params=call.params
    )

    if case in ("no-token", "expired-token"):
        _problem(response, 401)
        challenge = response.headers.get("www-authenticate", "")
        assert challenge.startswith("Bearer"), response.headers
        if case == "expired-token":
            assert 'error="invalid_token"' in challenge, challenge
        return
    if case == "wrong-scope" and expect.scope is not ANY_TOKEN:
        body = _problem(response, 403)
        assert body["required_scope"] == expect.scope, body
        challenge = response.headers.get("www-authenticate", "")
        assert 'error="insufficient_scope"' in challenge, (challenge, body)
        return
    if case == "other-org" and isinstance(expect.other, int):
        _problem(response, expect.other)
        return
    if case == "right" or (case == "wrong-scope" and expect.scope is ANY_TOKEN):
        assert response.status_code == expect.right, response.text
        if call.shows is not None:
            assert call.shows(_body(response)), response.text
        if call.acts_as is not None:
            assert response.json()[call.acts_as] == caller, response.json()
        return
    # another organisation, with the right scope, on a route it may call: 2xx, and what it
    # sees or changes is its own (or, on shared routes, what everybody sees)
    assert case == "other-org"
    assert 200 <= response.status_code < 300, response.text
    if expect.other == HIDDEN:
        assert call.shows is not None
        assert not call.shows(_body(response)), response.text
    elif expect.other == SHARED:
        assert response.status_code == expect.right, response.text
        if call.shows is not None:
            assert call.shows(response.json()), response.json()
    else:
        assert expect.other == OWN, expect
        assert call.acts_as is not None
        assert response.json()[call.acts_as] == caller, response.json()


# ---------------------------------------------------------------------------------------------
# Public routes and the OAuth endpoints (client authentication)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", sorted(PUBLIC & set(ROUTES)), ids=_id)
async def test_public_routes_need_no_token(
    route: tuple[str, str], client: httpx.AsyncClient
) -> None:
    response = await client.request(*route)
    # readiness may honestly be 503 while a dependency is down, but never asks for a token; the
    # unified sign-on's routes are 404 where none is configured (as here)
    assert (
        response.status_code == 200
        or (route[1] == "/readyz" and response.status_code == 503)
        or (route[1].startswith("/console/signin/upstream") and response.status_code == 404)
    )


@pytest.mark.parametrize("route", sorted(PERSON_SESSION & set(ROUTES)), ids=_id)
async def test_session_routes_send_strangers_to_sign_in(
    route: tuple[str, str], client: httpx.AsyncClient
) -> None:
    path = route[1].replace("{request_id}", "req_anything")
    response = await client.request(route[0], path, params={"client_id": "x"})
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/console/signin"), response.headers


@pytest.mark.parametrize("route", sorted(PERSON_TOKEN), ids=_id)
async def test_person_token_routes_refuse_systems(
    route: tuple[str, str], client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    assert (await client.request(*route)).status_code == 401
    system = await client.request(*route, headers=bearer(await token_for(REQUESTER, READ)))
    assert system.status_code == 403, system.text


OAUTH_CASES = ("no-client-auth", "wrong-secret", "bearer-token-instead", "right")


@dataclass
class Client:
    client_id: str
    secret: str


@pytest.fixture(scope="module")
async def oauth_client(app: FastAPI, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The same broker, counting failed client authentications under a prefix of its own: the
    deliberate failures here must not lock the test address out for anybody else."""
    prefix = f"cdo:rl:authz-{uuid.uuid4().hex[:8]}"
    async with broker_with(app, settings, rate_limit_prefix=prefix) as http:
        yield http


@pytest.fixture(scope="module")
async def oauth_world(sessionmaker: Sessions) -> dict[str, Client]:
    clients = {}
    for name, scope in {
        "resource-server": "tokens:introspect requests:read",
        "plain": "requests:read",
    }.items():
        async with sessionmaker() as session:
            record, secret = await create_client(session, organisation_id=PROVIDER, scope=scope)
            await session.commit()
        clients[name] = Client(record.id, secret)
    return clients


async def _client_token(http: httpx.AsyncClient, who: Client, scope: str) -> str:
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(who.client_id, who.secret),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.mark.parametrize(
    ("path", "case"),
    [
        pytest.param(path, case, id=f"POST {path} | {case}")
        for _, path in sorted(CLIENT_AUTH & set(ROUTES))
        for case in OAUTH_CASES
    ],
)
async def test_oauth_endpoints_authenticate_the_client(
    path: str, case: str, oauth_client: httpx.AsyncClient, oauth_world: dict[str, Client]
) -> None:
    client = oauth_client
    who = oauth_world["resource-server"]
    token = await _client_token(client, oauth_world["plain"], "requests:read")
    form = (
        {"grant_type": "client_credentials", "scope": "requests:read"}
        if path == "/oauth/token"
        else {"token": token}
    )
    auth: tuple[str, str] | None = None
    headers: dict[str, str] = {}
    if case == "wrong-secret":
        auth = (who.client_id, who.secret + "x")
    elif case == "bearer-token-instead":
        headers = bearer(token)
    elif case == "right":
        auth = (who.client_id, who.secret)

    response = await client.post(path, data=form, auth=auth, headers=headers)

    if case != "right":
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client", response.text
        return
    assert response.status_code == 200, response.text
    if path == "/oauth/token":
        assert response.json()["access_token"]
    elif path == "/oauth/introspect":
        assert response.json()["active"] is True


async def test_introspection_needs_the_introspect_scope(
    oauth_client: httpx.AsyncClient, oauth_world: dict[str, Client]
) -> None:
    client = oauth_client
    plain = oauth_world["plain"]
    token = await _client_token(client, plain, "requests:read")
    response = await client.post(
        "/oauth/introspect", data={"token": token}, auth=(plain.client_id, plain.secret)
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "insufficient_scope"
