"""The jurisdiction matrix (issue 12): every write endpoint x {own body, body in jurisdiction,
body outside it} x caller kind {department, government, city bureau, provincial bureau}.

Generated from the app's route table, as `tests/broker/test_authorisation_matrix.py` is: a write
route added to the app and not to `WRITES` fails `test_every_write_route_is_classified`. Each
case builds its own bodies, so what one case changes (an appointment ended, a dataset reclassed)
disturbs no other. Every caller holds every scope the routes need, admin scopes included: what
is tested is the body, not the scope. Each refusal is checked to have changed nothing, in the
tables and in the audit log.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from broker.app import create_app
from broker.directory.jurisdiction import covers
from broker.directory.repository import directory_snapshot
from core.clock import utcnow
from core.models.catalog import Dataset
from core.models.directory import Appointment, Delegation, Organisation
from core.models.evaluation import EvaluationScore
from core.models.grants import Grant
from core.models.requests import (
    AppealCoordinator,
    Clarification,
    DataRequest,
    Decision,
    StepApprover,
)
from testing.audit import audit_mark, audited_since
from testing.clients import Sessions, TokenFactory, bearer
from testing.organisations import fresh_body, fresh_dataset, window
from testing.routes import app_routes
from testing.workloads import request_body

pytestmark = pytest.mark.integration

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
KINDS = ("department", "government", "city bureau", "provincial bureau")
RELATIONS = ("own", "inside", "outside")
CALLER_SCOPES = (
    "directory:admin catalog:admin approvals:decide requests:submit requests:read "
    "grants:read grants:revoke evaluation:score"
)

# How each write route is decided, and so what the three relations expect:
ADMIN = "admin"  # jurisdiction: own body or, for a bureau, one it covers; else 403
ADD = "add"  # adding a body: only a bureau, below a government it covers; else 403
GRANT = "grant"  # the provider, or a bureau covering it; else 404 (no existence oracle)
APPROVER = "approver"  # only the step's approver (or delegate); jurisdiction adds nothing: 404
REQUESTER = "requester"  # only the request's requester: 404
OWN_ONLY = "own only"  # the call names no other body: acts on the caller's own, nothing to vary
BUREAU = "bureau"  # only a bureau, about a body in its jurisdiction (itself included); else 403

WRITES: dict[tuple[str, str], str] = {
    ("POST", "/v1/organisations"): ADD,
    ("PATCH", "/v1/organisations/{organisation_id}"): ADMIN,
    ("POST", "/v1/appointments"): ADMIN,
    ("POST", "/v1/appointments/{appointment_id}/end"): ADMIN,
    ("POST", "/v1/delegations"): ADMIN,
    ("POST", "/v1/delegations/{delegation_id}/revoke"): ADMIN,
    ("POST", "/v1/datasets"): ADMIN,
    ("PATCH", "/v1/datasets/{dataset_id}"): ADMIN,
    ("POST", "/v1/datasets/{dataset_id}/publish"): ADMIN,
    # the evaluation's scores are the bureaus' to enter (the seed: the bureau evaluates)
    ("POST", "/v1/evaluation/scores"): BUREAU,
    ("POST", "/v1/grants/{grant_id}/revoke"): GRANT,
    ("POST", "/v1/grants/{grant_id}/pause"): GRANT,
    ("POST", "/v1/grants/{grant_id}/resume"): GRANT,
    ("POST", "/v1/requests/{request_id}/decision"): APPROVER,
    ("POST", "/v1/requests/{request_id}/clarifications"): APPROVER,
    ("POST", "/v1/requests/{request_id}/cancel"): REQUESTER,
    ("POST", "/v1/requests/{request_id}/clarifications/answer"): REQUESTER,
    ("POST", "/v1/requests/{request_id}/appeal"): REQUESTER,
    # only the appeal's coordinator: like a step's approver, whoever else calls gets 404
    ("POST", "/v1/requests/{request_id}/appeal/decision"): APPROVER,
    # a problem report is the caller's own: naming bodies and requests changes nothing of theirs
    # (what may be named: tests/broker/problems)
    ("POST", "/v1/reports/problems"): OWN_ONLY,
    # only the provincial bureau answers, what was filed with it (reporter 403, others 404:
    # tests/broker/problems); no body is named
    ("POST", "/v1/reports/problems/{problem_id}/answer"): OWN_ONLY,
    ("POST", "/v1/requests"): OWN_ONLY,
    ("PUT", "/v1/webhooks/endpoint"): OWN_ONLY,
    ("POST", "/v1/webhooks/endpoint/rotate-secret"): OWN_ONLY,
    ("POST", "/v1/webhooks/deliveries/replay"): OWN_ONLY,
    ("POST", "/v1/webhooks/deliveries/{delivery_id}/replay"): OWN_ONLY,
    # a provider's guard reports uses: counted for grants on the caller's own datasets only, any
    # other grant named is ignored (tests/broker/grants/test_change_feed.py)
    ("POST", "/v1/grants/uses"): OWN_ONLY,
    ("PUT", "/v1/notifications/channels/{kind}"): OWN_ONLY,
    ("DELETE", "/v1/notifications/channels/{kind}"): OWN_ONLY,
    # client authentication: a client's own tokens (grant tokens: tests/broker/oauth)
    ("POST", "/oauth/token"): OWN_ONLY,
    ("POST", "/oauth/introspect"): OWN_ONLY,
    ("POST", "/oauth/revoke"): OWN_ONLY,
}
# (kind, relation) pairs a route cannot have: a government owns no dataset, so it has none to
# change and provides no grant.
NOT_APPLICABLE = {
    ("PATCH", "/v1/datasets/{dataset_id}"): {("government", "own")},
    ("POST", "/v1/datasets/{dataset_id}/publish"): {("government", "own")},
    **{
        ("POST", f"/v1/grants/{{grant_id}}/{action}"): {("government", "own")}
        for action in ("revoke", "pause", "resume")
    },
}

ROUTES = app_routes(create_app())  # collection time: no lifespan, nothing is connected
# The console's forms call the same services with a person's session instead of a token; their
# rules (another body's person gets "not found", only the appointed CDO decides) are tested in
# tests/broker/console and the browser tests.
WRITE_ROUTES = sorted(
    route for route in ROUTES if route[0] in WRITE_METHODS and not route[1].startswith("/console/")
)


def test_every_write_route_is_classified() -> None:
    assert sorted(WRITES) == WRITE_ROUTES


def test_own_only_routes_name_no_other_body() -> None:
    """Nothing in their path or body could name another organisation."""
    from broker.app import create_app

    document = create_app().openapi()
    for method, path in (route for route, family in WRITES.items() if family == OWN_ONLY):
        operation = document["paths"][path][method.lower()]
        params = {p["name"] for p in operation.get("parameters", [])}
        assert not {p for p in params if "organisation" in p or p.endswith("org_id")}, path
        schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        ref = (schema.get("schema") or {}).get("$ref", "")
        props = document["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
        names = set(props.get("properties", {}))
        assert not {n for n in names if "organisation" in n or n.endswith("org_id")}, path


def test_the_matrix_reads_the_live_route_table() -> None:
    from broker.app import create_app

    live = {r for r in app_routes(create_app()) if r[0] in WRITE_METHODS}
    assert {r for r in live if not r[1].startswith("/console/")} == set(WRITES)


# ---------------------------------------------------------------------------------------------
# The places: per module, two fresh cities and another province; per case, fresh bodies
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Places:
    city: str  # a fresh city under the province, with CDOs throughout
    other_city: str
    other_province: str  # a government with no parent: outside even the provincial bureau


@pytest.fixture(scope="module")
async def places(sessionmaker: Sessions, seeded: object) -> Places:
    async def government(parent: str | None, level: str) -> str:
        return await fresh_body(
            sessionmaker, kind="government", parent_id=parent, level=level, prefix="jm"
        )

    return Places(
        await government("gd-gov", "city"),
        await government("gd-gov", "city"),
        await government(None, "province"),
    )


@dataclass
class Case:
    route: tuple[str, str]
    kind: str
    relation: str
    caller: str = ""
    target: str = ""  # the body the call is about
    touched: list[str] = field(default_factory=list)  # every body whose rows it may change
    request_id: str | None = None
    grant_id: str | None = None
    new_id: str | None = None  # what a creating call would add


async def _caller_and_targets(sessionmaker: Sessions, places: Places, kind: str) -> tuple[str, ...]:
    """(caller, a body inside a bureau's jurisdiction at the caller's place, one outside)."""

    async def body(**kw: Any) -> str:
        return await fresh_body(sessionmaker, **({"prefix": "jm"} | kw))

    if kind == "department":
        caller = await body(government_id=places.city)
        return (
            caller,
            await body(government_id=places.city),
            await body(government_id="gd-gov", level="province"),
        )
    if kind == "government":
        caller = await body(kind="government", parent_id=places.city, level="county")
        return (
            caller,
            await body(government_id=caller, level="county"),
            await body(government_id=places.other_city),
        )
    if kind == "city bureau":
        # a second bureau of the fresh city: "zz" sorts after any first one, which routing uses
        caller = await body(kind="data_bureau", government_id=places.city, prefix="zz-jm")
        county = await body(kind="government", parent_id=places.city, level="county")
        return (
            caller,
            await body(government_id=county, level="county"),
            await body(government_id="gd-gov", level="province"),
        )
    caller = await body(
        kind="data_bureau", government_id="gd-gov", level="province", prefix="zz-jm"
    )
    return (
        caller,
        await body(government_id=places.city),
        await body(government_id=places.other_province, level="province"),
    )


def _expected(family: str, kind: str, relation: str, route: tuple[str, str]) -> int:
    bureau = kind.endswith("bureau")
    if route == ("POST", "/v1/datasets") and kind == "government" and relation == "own":
        return 422  # a government owns no dataset
    if family == ADD:
        return 201 if bureau and relation != "outside" else 403
    if family == BUREAU:
        return 201 if bureau and relation != "outside" else 403
    allowed = relation == "own" or (bureau and relation == "inside")
    if family == ADMIN:
        return (201 if route[0] == "POST" and route[1].count("/") == 2 else 200) if allowed else 403
    if family == GRANT:
        return 200 if allowed else 404
    ok = 201 if route[1].endswith(("/clarifications", "/appeal")) else 200
    return ok if relation == "own" else 404


# ---------------------------------------------------------------------------------------------
# What each route is called with, about `case.target`
# ---------------------------------------------------------------------------------------------

Call = tuple[str, str, dict[str, Any] | None]  # method, path, body
Prepare = Callable[[Case, Sessions, httpx.AsyncClient, TokenFactory, Places], Awaitable[Call]]
PREPARE: dict[tuple[str, str], Prepare] = {}


def prepares(method: str, path: str) -> Callable[[Prepare], Prepare]:
    def register(prepare: Prepare) -> Prepare:
        PREPARE[(method, path)] = prepare
        return prepare

    return register


async def _government_of(sessionmaker: Sessions, org_id: str) -> str:
    async with sessionmaker() as session:
        org = await session.get(Organisation, org_id)
        assert org is not None
        return org.id if org.kind == "government" else str(org.government_id)


async def _appointment_of(sessionmaker: Sessions, org_id: str) -> str:
    async with sessionmaker() as session:
        found = await session.scalar(
            select(Appointment.id).where(
                Appointment.organisation_id == org_id, Appointment.ends_at.is_(None)
            )
        )
        assert found is not None
        return found


@prepares("POST", "/v1/organisations")
async def _(case: Case, sessionmaker: Sessions, *_: Any) -> Call:
    """Adds a department under the target's government (own: the caller's own government)."""
    case.new_id = f"jm-new-{secrets.token_hex(5)}"
    government = await _government_of(sessionmaker, case.target)
    body = {
        "id": case.new_id,
        "name": "新设部门",
        "name_en": "A new department",
        "kind": "department",
        "level": "city",
        "division_code": "440100",
        "government_id": government,
    }
    return "POST", "/v1/organisations", body


@prepares("PATCH", "/v1/organisations/{organisation_id}")
async def _(case: Case, *_: Any) -> Call:
    return "PATCH", f"/v1/organisations/{case.target}", {"name_en": "Renamed by the matrix"}


@prepares("POST", "/v1/appointments")
async def _(case: Case, sessionmaker: Sessions, *_: Any) -> Call:
    body = {
        "organisation_id": case.target,
        "person_name": "继任者",
        "title": "副局长",
        "appointed_by": "测试党组",
        "starts_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "replaces": await _appointment_of(sessionmaker, case.target),
    }
    return "POST", "/v1/appointments", body


@prepares("POST", "/v1/appointments/{appointment_id}/end")
async def _(case: Case, sessionmaker: Sessions, *_: Any) -> Call:
    appointment = await _appointment_of(sessionmaker, case.target)
    return "POST", f"/v1/appointments/{appointment}/end", {"reason": "调任"}


@prepares("POST", "/v1/delegations")
async def _(case: Case, *_: Any) -> Call:
    body = {
        "organisation_id": case.target,
        "delegate_name": "代理人",
        "delegate_title": "处长",
        **window(),
    }
    return "POST", "/v1/delegations", body


@prepares("POST", "/v1/delegations/{delegation_id}/revoke")
async def _(case: Case, sessionmaker: Sessions, *_: Any) -> Call:
    delegation_id = f"dlg_{secrets.token_hex(8)}"
    async with sessionmaker() as session:
        session.add(
            Delegation(
                id=delegation_id,
                appointment_id=await _appointment_of(sessionmaker, case.target),
                delegate_name="代理人",
                delegate_title="处长",
                delegate_org_id=case.target,
                starts_at=utcnow(),
                ends_at=utcnow() + timedelta(days=7),
            )
        )
        await session.commit()
    return "POST", f"/v1/delegations/{delegation_id}/revoke", {"reason": "提前返岗"}


@prepares("POST", "/v1/datasets")
async def _(case: Case, *_: Any) -> Call:
    case.new_id = f"jm-{secrets.token_hex(5)}"
    body = {
        "id": case.new_id,
        "name": "矩阵测试数据",
        "name_en": "Matrix test data",
        "owner_id": case.target,
        "sharing_class": "conditional",
        "fields": [{"name": "code", "label": "编码"}],
    }
    return "POST", "/v1/datasets", body


@prepares("PATCH", "/v1/datasets/{dataset_id}")
async def _(case: Case, sessionmaker: Sessions, *_: Any) -> Call:
    dataset_id = await fresh_dataset(sessionmaker, case.target)
    return "PATCH", f"/v1/datasets/{dataset_id}", {"sharing_class": "unconditional"}


@prepares("POST", "/v1/datasets/{dataset_id}/publish")
async def _(case: Case, sessionmaker: Sessions, *_: Any) -> Call:
    """A draft entry of the target's (as an approved demand leaves one), described already."""
    dataset_id = await fresh_dataset(sessionmaker, case.target)
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(Dataset).where(Dataset.id == dataset_id).values(status="draft")
        )
    return "POST", f"/v1/datasets/{dataset_id}/publish", None


@prepares("POST", "/v1/evaluation/scores")
async def _(case: Case, *_: Any) -> Call:
    period = {"period_start": "2026-01-01", "period_end": "2027-01-01"}
    body = {"organisation_id": case.target, "indicator": "daily_management", "score": 75,
            "comment": "矩阵测试评分", **period}  # fmt: skip
    return "POST", "/v1/evaluation/scores", body


async def _grant_from(
    case: Case, sessionmaker: Sessions, client: httpx.AsyncClient, token_for: TokenFactory
) -> str:
    """A grant of a dataset the target provides, approved at filing by another body."""
    dataset_id = await fresh_dataset(sessionmaker, case.target, "unconditional")
    headers = bearer(await token_for("gz-rsj", "requests:submit"))
    filed = await client.post(
        "/v1/requests", headers=headers, json=request_body(dataset_id, ["code"])
    )
    assert filed.status_code == 201, filed.text
    case.grant_id = str(filed.json()["grant_id"])
    return case.grant_id


for _action in ("revoke", "pause", "resume"):

    @prepares("POST", f"/v1/grants/{{grant_id}}/{_action}")
    async def _(
        case: Case,
        sessionmaker: Sessions,
        client: httpx.AsyncClient,
        token_for: TokenFactory,
        *_: Any,
        action: str = _action,
    ) -> Call:
        grant_id = await _grant_from(case, sessionmaker, client, token_for)
        if action == "resume":
            async with sessionmaker() as session, session.begin():
                await session.execute(
                    update(Grant).where(Grant.id == grant_id).values(status="paused")
                )
        return "POST", f"/v1/grants/{grant_id}/{action}", {"reason": "矩阵测试"}


async def _request_about(
    case: Case,
    sessionmaker: Sessions,
    client: httpx.AsyncClient,
    token_for: TokenFactory,
    *,
    target_is: str,
    clarifying: bool = False,
) -> str:
    """A request gz-gaj filed that gz-rsj decides, with the target put in the place that
    matters: its current approver, or its requester."""
    filed = await client.post(
        "/v1/requests",
        headers=bearer(await token_for("gz-gaj", "requests:submit")),
        json=request_body("gz-rsj-talent-green-card", ["card_number"]),
    )
    assert filed.status_code == 201, filed.text
    request_id = str(filed.json()["id"])
    if clarifying:
        asked = await client.post(
            f"/v1/requests/{request_id}/clarifications",
            headers=bearer(await token_for("gz-rsj", "approvals:decide")),
            json={"question": "用途?"},
        )
        assert asked.status_code == 201, asked.text
    async with sessionmaker() as session, session.begin():
        if target_is == "approver":
            await session.execute(
                update(StepApprover)
                .where(StepApprover.request_id == request_id)
                .values(organisation_id=case.target)
            )
        else:
            await session.execute(
                update(DataRequest)
                .where(DataRequest.id == request_id)
                .values(requester_id=case.target)
            )
    case.request_id = request_id
    return request_id


@prepares("POST", "/v1/requests/{request_id}/decision")
async def _(case: Case, *args: Any) -> Call:
    request_id = await _request_about(case, *args[:3], target_is="approver")
    # the card number is personal: an approval granting it says why (minimisation)
    body = {"decision": "approve", "comment": "核验人才绿卡所需"}
    return "POST", f"/v1/requests/{request_id}/decision", body


@prepares("POST", "/v1/requests/{request_id}/clarifications")
async def _(case: Case, *args: Any) -> Call:
    request_id = await _request_about(case, *args[:3], target_is="approver")
    return "POST", f"/v1/requests/{request_id}/clarifications", {"question": "数据用途?"}


@prepares("POST", "/v1/requests/{request_id}/cancel")
async def _(case: Case, *args: Any) -> Call:
    request_id = await _request_about(case, *args[:3], target_is="requester")
    return "POST", f"/v1/requests/{request_id}/cancel", {"reason": "不再需要"}


@prepares("POST", "/v1/requests/{request_id}/clarifications/answer")
async def _(case: Case, *args: Any) -> Call:
    request_id = await _request_about(case, *args[:3], target_is="requester", clarifying=True)
    return "POST", f"/v1/requests/{request_id}/clarifications/answer", {"answer": "仅限审核"}


async def _rejected_about(
    case: Case, sessionmaker: Sessions, client: httpx.AsyncClient, token_for: TokenFactory
) -> str:
    """A request the target filed (as `_request_about` makes one) that gz-rsj rejected."""
    request_id = await _request_about(case, sessionmaker, client, token_for, target_is="requester")
    rejected = await client.post(
        f"/v1/requests/{request_id}/decision",
        headers=bearer(await token_for("gz-rsj", "approvals:decide")),
        json={"decision": "reject", "comment": "用途不明确"},
    )
    assert rejected.status_code == 200, rejected.text
    return request_id


@prepares("POST", "/v1/requests/{request_id}/appeal")
async def _(case: Case, *args: Any) -> Call:
    request_id = await _rejected_about(case, *args[:3])
    return "POST", f"/v1/requests/{request_id}/appeal", {"reason": "请求协调"}


@prepares("POST", "/v1/requests/{request_id}/appeal/decision")
async def _(case: Case, sessionmaker: Sessions, client: httpx.AsyncClient, *args: Any) -> Call:
    """gz-gaj's rejected request, appealed, with the target put in as its coordinator."""
    token_for = args[0]
    filed = await client.post(
        "/v1/requests",
        headers=bearer(await token_for("gz-gaj", "requests:submit")),
        json=request_body("gz-rsj-talent-green-card", ["card_number"]),
    )
    request_id = str(filed.json()["id"])
    rejected = await client.post(
        f"/v1/requests/{request_id}/decision",
        headers=bearer(await token_for("gz-rsj", "approvals:decide")),
        json={"decision": "reject", "comment": "用途不明确"},
    )
    assert rejected.status_code == 200, rejected.text
    appealed = await client.post(
        f"/v1/requests/{request_id}/appeal",
        headers=bearer(await token_for("gz-gaj", "requests:submit")),
        json={"reason": "请求协调"},
    )
    assert appealed.status_code == 201, appealed.text
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(AppealCoordinator)
            .where(AppealCoordinator.request_id == request_id)
            .values(organisation_id=case.target)
        )
    case.request_id = request_id
    body = {"decision": "overturn", "comment": "同意共享"}
    return "POST", f"/v1/requests/{request_id}/appeal/decision", body


def test_every_varied_route_has_a_preparation() -> None:
    assert set(PREPARE) == {route for route, family in WRITES.items() if family != OWN_ONLY}


# ---------------------------------------------------------------------------------------------
# What a refused call must leave as it was
# ---------------------------------------------------------------------------------------------


async def _state(sessionmaker: Sessions, case: Case) -> tuple[Any, ...]:
    bodies = case.touched
    async with sessionmaker() as session:

        async def rows(query: Any) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in (await session.execute(query)).all()]

        state: list[Any] = [
            await rows(
                select(Organisation.id, Organisation.name_en, Organisation.pilot).where(
                    Organisation.id.in_([*bodies, case.new_id or ""])
                )
            ),
            await rows(
                select(Appointment.id, Appointment.ends_at, Appointment.end_reason)
                .where(Appointment.organisation_id.in_(bodies))
                .order_by(Appointment.id)
            ),
            await rows(
                select(Delegation.id, Delegation.revoked_at)
                .join(Appointment, Appointment.id == Delegation.appointment_id)
                .where(Appointment.organisation_id.in_(bodies))
                .order_by(Delegation.id)
            ),
            await rows(
                select(Dataset.id, Dataset.sharing_class, Dataset.name_en, Dataset.status)
                .where(Dataset.owner_id.in_(bodies) | (Dataset.id == (case.new_id or "")))
                .order_by(Dataset.id)
            ),
            await rows(select(Grant.status).where(Grant.id == (case.grant_id or ""))),
            await rows(
                select(EvaluationScore.id).where(EvaluationScore.organisation_id.in_(bodies))
            ),
        ]
        if case.request_id:
            request_id = case.request_id
            state += [
                await rows(
                    select(DataRequest.status, DataRequest.current_step).where(
                        DataRequest.id == request_id
                    )
                ),
                await rows(select(Decision.id).where(Decision.request_id == request_id)),
                await rows(
                    select(Clarification.id, Clarification.answered_at).where(
                        Clarification.request_id == request_id
                    )
                ),
                await rows(
                    select(StepApprover.organisation_id, StepApprover.replaced_at).where(
                        StepApprover.request_id == request_id
                    )
                ),
            ]
        return tuple(state)


# ---------------------------------------------------------------------------------------------
# The matrix
# ---------------------------------------------------------------------------------------------


def _params() -> Iterator[Any]:
    for route in WRITE_ROUTES:
        if WRITES.get(route) == OWN_ONLY:
            continue
        for kind in KINDS:
            for relation in RELATIONS:
                if (kind, relation) in NOT_APPLICABLE.get(route, set()):
                    continue
                yield pytest.param(
                    route, kind, relation, id=f"{route[0]} {route[1]} | {kind} | {relation}"
                )


@pytest.mark.parametrize(("route", "kind", "relation"), list(_params()))
async def test_jurisdiction_matrix(
    route: tuple[str, str],
    kind: str,
    relation: str,
    client: httpx.AsyncClient,
    sessionmaker: Sessions,
    token_for: TokenFactory,
    places: Places,
) -> None:
    assert route in WRITES, f"{route} is not classified: add it to WRITES"
    case = Case(route, kind, relation)
    caller, inside, outside = await _caller_and_targets(sessionmaker, places, kind)
    case.caller = caller
    case.target = {"own": caller, "inside": inside, "outside": outside}[relation]
    case.touched = [caller, case.target]
    async with sessionmaker() as session:  # the rule itself agrees with the places chosen
        view = (await directory_snapshot(session, utcnow())).view
    assert covers(view, caller, inside) == kind.endswith("bureau")
    assert not covers(view, caller, outside)
    method, path, body = await PREPARE[route](case, sessionmaker, client, token_for, places)
    headers = bearer(await token_for(caller, CALLER_SCOPES))
    before = await _state(sessionmaker, case)
    mark = await audit_mark(sessionmaker)

    response = await client.request(method, path, headers=headers, json=body)

    expected = _expected(WRITES[route], kind, relation, route)
    assert response.status_code == expected, response.text
    if expected < 300:
        assert await audited_since(sessionmaker, mark, actor=caller), (
            "an allowed write left no audit row naming its caller"
        )
        return
    if expected == 403:
        # a body that is no bureau is refused as such before any jurisdiction is asked
        why = "/only-a-bureau-scores" if WRITES[route] == BUREAU and kind in KINDS[:2] else None
        assert response.json()["type"].endswith(why or "/outside-jurisdiction"), response.text
    assert await _state(sessionmaker, case) == before, "a refused call changed something"
    assert await audited_since(sessionmaker, mark, actor=caller) == []
