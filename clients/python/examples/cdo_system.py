"""A CDO's system: receives the broker's webhooks, checks their signatures, and decides the
approval tasks it is sent (here by a simple rule; a real one asks the CDO).

    BROKER_URL=... CLIENT_ID=... CLIENT_SECRET=... WEBHOOK_SECRETS=whsec_old,whsec_new \\
        uvicorn cdo_system:app --port 9000

Register the receiver with `PUT /v1/webhooks/endpoint` ({"url": "https://.../hooks"}); keep
every secret the broker gave you during a rotation in WEBHOOK_SECRETS.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cdo_broker_client import (
    BrokerClient,
    Conflict,
    WebhookVerificationError,
    parse_webhook,
    verify_webhook,
)
from cdo_broker_client.events import ApprovalTask, ApprovalWebhook

logger = logging.getLogger("cdo_system")
Decision = Literal["approve", "reject"]
Rule = Callable[[ApprovalTask], Awaitable[tuple[Decision, str | None]]]


async def approve_named_purposes(task: ApprovalTask) -> tuple[Decision, str | None]:
    """Approve when a purpose is stated, else reject saying why (a stand-in for the CDO)."""
    if len(task.purpose.strip()) >= 4:
        return "approve", None
    return "reject", "用途说明不足 / the purpose is not stated"


def create_app(broker: BrokerClient, secrets: Sequence[str], rule: Rule) -> Starlette:
    decided: list[str] = []

    async def hooks(request: Request) -> Response:
        try:
            payload = verify_webhook(secrets, request.headers, await request.body())
        except WebhookVerificationError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        try:
            event = parse_webhook(payload)
        except ValueError:
            return Response(status_code=204)  # a type this version does not know: accepted
        if isinstance(event, ApprovalWebhook) and event.type != "approval.reminder":
            decision, comment = await rule(event.data)
            try:
                await broker.decide(event.data.request_id, decision, comment=comment)
            except Conflict as exc:  # decided already, or by someone else: nothing to do
                logger.info("not decided again: %s", exc)
            decided.append(event.data.request_id)
        return Response(status_code=204)

    app = Starlette(routes=[Route("/hooks", hooks, methods=["POST"])])
    app.state.decided = decided
    return app


def from_environment() -> Starlette:
    broker = BrokerClient(
        os.environ["BROKER_URL"], os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"]
    )
    secrets = [s for s in os.environ["WEBHOOK_SECRETS"].split(",") if s]
    return create_app(broker, secrets, approve_named_purposes)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(from_environment(), port=int(os.environ.get("PORT", "9000")))
