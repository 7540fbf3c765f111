"""`BrokerClient`: the broker's HTTP API for department, CDO and provider systems (async).

    async with BrokerClient("https://broker.example", client_id, client_secret) as broker:
        filed = await broker.file_request(RequestIn(...))
        decided = await broker.wait_for_decision(filed.id)
        token = await broker.grant_token(filed.dataset_id)

Tokens come from the client-credentials grant, cached and renewed before they expire. Calls
that get no answer, a 429 or a 503 are retried (after `Retry-After` when given): filing carries
an `Idempotency-Key` (a new UUID unless you give one) that stays the same across those retries,
and the broker's other writes are idempotent by design (the same decision twice is one
decision), so a retry never does a thing twice. Errors raise `errors.BrokerError` subclasses
carrying the RFC 9457 problem.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel

from cdo_broker_client.errors import BrokerError, Unauthorized, error_from, no_answer
from cdo_broker_client.grants import GrantToken
from cdo_broker_client.models import (
    DecisionIn,
    GrantOut,
    PageGrantOut,
    PageRequestOut,
    PeriodIn,
    RequestIn,
    RequestOut,
)
from cdo_broker_client.tokens import TokenSource

M = TypeVar("M", bound=BaseModel)
_RETRIED = (429, 503)
FINAL = frozenset({"approved", "rejected", "cancelled", "expired"})


class BrokerClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        renew_before: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(timeout=timeout)
        self.retries = retries
        self.tokens = TokenSource(
            self.http, f"{self.base_url}/oauth/token", client_id, client_secret, renew_before
        )
        self._metadata: dict[str, Any] | None = None

    async def __aenter__(self) -> BrokerClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    # --- the transport: tokens, retries, errors ---------------------------------------------

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        scope: str = "",
    ) -> httpx.Response:
        """One API call with a bearer token: retried on no answer, 429 and 503; a 401 fetches a
        new token once (the cached one may have been revoked or signed by a retired key)."""
        url = f"{self.base_url}{path}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        renewed = False
        for attempt in range(self.retries + 1):
            token = await self.tokens.get(scope)
            sent = {**(headers or {}), "Authorization": f"Bearer {token.access_token}"}
            try:
                response = await self.http.request(
                    method, url, json=json, params=query, headers=sent
                )
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise no_answer(exc, url) from exc
                await asyncio.sleep(_backoff(attempt, None))
                continue
            if response.status_code < 400:
                return response
            error = error_from(response)
            if isinstance(error, Unauthorized) and not renewed:
                self.tokens.forget(token)
                renewed = True
                continue
            if response.status_code not in _RETRIED or attempt == self.retries:
                raise error
            await asyncio.sleep(_backoff(attempt, error.retry_after))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _model(self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        return model.model_validate((await self.call(method, path, **kwargs)).json())

    async def _pages(
        self, page: type[PageRequestOut] | type[PageGrantOut], path: str, params: dict[str, Any]
    ) -> AsyncIterator[Any]:
        cursor: str | None = None
        while True:
            answer = await self._model(page, "GET", path, params=params | {"cursor": cursor})
            for item in answer.items:
                yield item
            if not answer.next_cursor:
                return
            cursor = answer.next_cursor

    # --- requests ---------------------------------------------------------------------------

    async def file_request(
        self, body: RequestIn | Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> RequestOut:
        """File a share or return request (scope `requests:submit`). Filing again with the same
        key and body gives the same request; with another body, `Conflict`."""
        payload = _body(RequestIn, body)
        key = idempotency_key or str(uuid.uuid4())
        return await self._model(
            RequestOut, "POST", "/v1/requests", json=payload, headers={"Idempotency-Key": key}
        )

    async def get_request(self, request_id: str) -> RequestOut:
        return await self._model(RequestOut, "GET", f"/v1/requests/{request_id}")

    def list_requests(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        dataset_id: str | None = None,
        role: Literal["requester", "approver"] | None = None,
        page_size: int = 50,
    ) -> AsyncIterator[RequestOut]:
        """Every request the organisation filed or must decide, newest first, page by page."""
        params = {"status": status, "kind": kind, "dataset_id": dataset_id, "role": role}
        return self._pages(PageRequestOut, "/v1/requests", params | {"limit": page_size})

    async def decide(
        self,
        request_id: str,
        decision: Literal["approve", "reject", "veto"],
        *,
        comment: str | None = None,
        fields: list[str] | None = None,
        period: PeriodIn | Mapping[str, Any] | None = None,
    ) -> RequestOut:
        """Decide the current step (scope `approvals:decide`); an approval may narrow `fields`
        and `period`. The same decision again is no change; a different one, `Conflict`."""
        body: dict[str, Any] = {"decision": decision, "comment": comment, "fields": fields}
        if period is not None:
            body["period"] = _body(PeriodIn, period)
        payload = _body(DecisionIn, body)
        return await self._model(
            RequestOut, "POST", f"/v1/requests/{request_id}/decision", json=payload
        )

    async def ask_clarification(self, request_id: str, question: str) -> RequestOut:
        path = f"/v1/requests/{request_id}/clarifications"
        return await self._model(RequestOut, "POST", path, json={"question": question})

    async def answer_clarification(self, request_id: str, answer: str) -> RequestOut:
        path = f"/v1/requests/{request_id}/clarifications/answer"
        return await self._model(RequestOut, "POST", path, json={"answer": answer})

    async def cancel(self, request_id: str, reason: str | None = None) -> RequestOut:
        body = {"reason": reason} if reason else {}
        return await self._model(RequestOut, "POST", f"/v1/requests/{request_id}/cancel", json=body)

    async def wait_for_decision(
        self, request_id: str, *, limit_s: float = 3600.0, poll_s: float = 5.0
    ) -> RequestOut:
        """Poll until the request is final (approved, rejected, cancelled or expired). A system
        with a webhook endpoint hears `request.decided` instead and need not poll."""
        deadline = time.monotonic() + limit_s
        while True:
            request = await self.get_request(request_id)
            if request.status in FINAL:
                return request
            if time.monotonic() >= deadline:
                raise TimeoutError(f"request {request_id} still {request.status} after {limit_s}s")
            await asyncio.sleep(min(poll_s, max(0.0, deadline - time.monotonic())))

    # --- grants -----------------------------------------------------------------------------

    def list_grants(
        self,
        *,
        role: Literal["grantee", "provider"] | None = None,
        status: str | None = None,
        dataset_id: str | None = None,
        page_size: int = 50,
    ) -> AsyncIterator[GrantOut]:
        params = {"role": role, "status": status, "dataset_id": dataset_id, "limit": page_size}
        return self._pages(PageGrantOut, "/v1/grants", params)

    async def get_grant(self, grant_id: str) -> GrantOut:
        return await self._model(GrantOut, "GET", f"/v1/grants/{grant_id}")

    async def revoke_grant(self, grant_id: str, reason: str) -> GrantOut:
        """Revoke (scope `grants:revoke`; the provider's CDO or a data bureau above it)."""
        return await self._grant_change(grant_id, "revoke", {"reason": reason})

    async def pause_grant(self, grant_id: str, reason: str | None = None) -> GrantOut:
        return await self._grant_change(grant_id, "pause", {"reason": reason} if reason else {})

    async def resume_grant(self, grant_id: str, reason: str | None = None) -> GrantOut:
        return await self._grant_change(grant_id, "resume", {"reason": reason} if reason else {})

    async def _grant_change(self, grant_id: str, action: str, body: dict[str, Any]) -> GrantOut:
        return await self._model(GrantOut, "POST", f"/v1/grants/{grant_id}/{action}", json=body)

    async def grant_token(self, dataset_id: str) -> GrantToken:
        """An access token for `dataset:<id>:read`, to present to the provider's data API: it
        carries the grant (RFC 9396 `authorization_details`) and ends no later than the grant.
        Needs an active grant and a client allowed `grants:use`; cached like other tokens."""
        token = await self.tokens.get(f"dataset:{dataset_id}:read")
        return GrantToken.from_token(token)

    # --- discovery --------------------------------------------------------------------------

    async def metadata(self) -> dict[str, Any]:
        """RFC 8414 metadata: `issuer`, `jwks_uri`, `token_endpoint`, ..."""
        if self._metadata is None:
            try:
                response = await self.http.get(
                    f"{self.base_url}/.well-known/oauth-authorization-server"
                )
            except httpx.TransportError as exc:
                raise no_answer(exc, self.base_url) from exc
            if response.status_code != 200:
                raise error_from(response)
            self._metadata = dict(response.json())
        return self._metadata


def _body(model: type[BaseModel], body: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    """Checked against the broker's schema before it is sent: a bad body fails here, in words."""
    checked = body if isinstance(body, model) else model.model_validate(body)
    return checked.model_dump(mode="json", exclude_none=True, by_alias=True)


def _backoff(attempt: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return min(retry_after, 30.0)
    return float(min(10.0, 0.25 * 2**attempt) * random.uniform(0.5, 1.0))


__all__ = ["FINAL", "BrokerClient", "BrokerError"]
