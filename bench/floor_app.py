"""The floors of the benches: the broker's own app with bare routes added.

`POST /bench/floor/requests` (bench/submissions) writes what a filing writes (the request, its
steps and approvers, its three outbox events, its audit row) in one transaction, with no
authentication, validation, routing, Redis or response view.

`POST /bench/floor/token` and `POST /bench/floor/introspect` (bench/tokens) do the work no token
endpoint can avoid: read the form, and sign an equivalent RFC 9068 JWT with the broker's key, or
verify one and answer its claims; no client lookup, authlib, rate limit, audit row or Redis.

It is served like `cdo-broker serve` (same uvicorn settings, one process), so the server stack,
middleware, engine and pool are the production ones; the difference between the two figures is
the broker's own logic. The filing floor's rows are copies of a request the real endpoint filed
in the same run (`--template` names it), so they are the same size and go to the same indexes;
the outbox rows are unsent, so this process's relay publishes them as the broker's does.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
import uuid
from datetime import datetime
from typing import Annotated, Any

import uvicorn
from fastapi import APIRouter, Body, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from joserfc import jwt
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.app import create_app
from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.kit.deps import SessionDep
from broker.kit.problems import Unauthorized
from broker.oauth.keys import ALGORITHM
from broker.oauth.principal import decode_access_token
from broker.settings import BrokerSettings
from core.clock import utcnow
from core.ids import new_id
from core.models.outbox import OutboxEvent, shard_of
from core.models.requests import DataRequest, RequestStep, StepApprover

router = APIRouter()
_template: dict[str, Any] = {}
_loading = asyncio.Lock()


def _columns(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


async def _load_template(session: AsyncSession, request_id: str) -> dict[str, Any]:
    async with _loading:
        if not _template:
            request = await session.get(DataRequest, request_id)
            if request is None:
                raise RuntimeError(f"no template request {request_id}")
            steps = await session.scalars(
                select(RequestStep).where(RequestStep.request_id == request_id)
            )
            approvers = await session.scalars(
                select(StepApprover).where(StepApprover.request_id == request_id)
            )
            events = await session.scalars(
                select(OutboxEvent).where(OutboxEvent.subject == request_id)
            )
            _template.update(
                request=_columns(request),
                steps=[_columns(s) for s in steps],
                approvers=[_columns(a) for a in approvers],
                events=[_columns(e) for e in events],
            )
    return _template


@router.post("/bench/floor/requests", status_code=201, include_in_schema=False)
async def floor_request(
    http: Request,
    response: Response,
    session: SessionDep,
    body: Annotated[dict[str, Any], Body()],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, str]:
    template = _template or await _load_template(session, http.app.state.floor_template)
    now = utcnow()
    request_id = new_id("req")
    step_ids = {s["id"]: new_id("stp") for s in template["steps"]}
    request = template["request"] | {
        "id": request_id,
        "fields": body["fields"],
        "purpose": body["purpose"],
        "period_start": datetime.fromisoformat(body["period"]["start"]),
        "period_end": datetime.fromisoformat(body["period"]["end"]),
        "idempotency_key": idempotency_key,
        "created_at": now,
        "updated_at": now,
    }
    await session.execute(insert(DataRequest), [request])
    await session.execute(
        insert(RequestStep),
        [s | {"id": step_ids[s["id"]], "request_id": request_id} for s in template["steps"]],
    )
    await session.execute(
        insert(StepApprover),
        [
            a | {"id": new_id("apv"), "step_id": step_ids[a["step_id"]], "request_id": request_id}
            for a in template["approvers"]
        ],
    )
    events = []
    for e in template["events"]:
        key = request_id if e["key"] == e["subject"] else e["key"]
        events.append(
            {k: v for k, v in e.items() if k != "id"}
            | {
                "event_id": str(uuid.uuid4()),
                "key": key,
                "shard": shard_of(key),
                "subject": request_id,
                "data": e["data"] | {"request_id": request_id},
                "created_at": now,
                "sent_at": None,
                "attempts": 0,
            }
        )
    await session.execute(insert(OutboxEvent), events)
    requester = Actor(request["requester_id"], request["filed_by_client_id"])
    await audit.record(
        session, "request.filed", actor=requester, subject=request_id, now=now,
        kind=request["kind"], dataset=request["dataset_id"], provider=request["provider_id"],
        fields=request["fields"],
        period=[request["period_start"].isoformat(), request["period_end"].isoformat()],
        jurisdiction=request["jurisdiction"],
    )  # fmt: skip
    response.headers["Location"] = f"/bench/floor/requests/{request_id}"
    return {"id": request_id}


@router.post("/bench/floor/token", include_in_schema=False)
async def floor_token(http: Request) -> JSONResponse:
    form = await http.form()
    state = http.app.state
    client_id = str(form.get("client_id") or "bench-floor")
    now = int(time.time())
    ttl = state.settings.access_token_ttl_seconds
    claims = {
        "iss": state.settings.issuer,
        "aud": state.settings.issuer,
        "sub": client_id,
        "client_id": client_id,
        "org_id": "gz-gaj",
        "scope": str(form.get("scope") or ""),
        "iat": now,
        "exp": now + ttl,
        "jti": secrets.token_urlsafe(24),
    }
    key = state.keyring.signing_key
    header = {"alg": ALGORITHM, "typ": "at+jwt", "kid": key.kid}
    token = jwt.encode(header, claims, key)
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": claims["scope"],
        },
        headers={"Cache-Control": "no-store"},
    )


@router.post("/bench/floor/introspect", include_in_schema=False)
async def floor_introspect(http: Request) -> JSONResponse:
    form = await http.form()
    state = http.app.state
    try:
        claims = decode_access_token(
            str(form.get("token", "")), state.keyring, state.settings.issuer
        )
    except Unauthorized:
        return JSONResponse({"active": False})
    return JSONResponse({"active": True, **claims}, headers={"Cache-Control": "no-store"})


def build(template_request_id: str) -> FastAPI:
    app = create_app(BrokerSettings())
    app.include_router(router)
    app.state.floor_template = template_request_id
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="the broker app plus the bench's floor route")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--template", default="", help="a request filed by the real endpoint")
    args = parser.parse_args()
    # As broker.cli's `serve` runs the app.
    uvicorn.run(build(args.template), host=args.host, port=args.port, proxy_headers=True)


if __name__ == "__main__":
    main()
