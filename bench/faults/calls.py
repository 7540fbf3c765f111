"""Calling the two brokers the way a well-behaved client behind a load balancer does: retry on a
lost connection or timeout (at the other broker), on 503 and 429 after their `Retry-After`, and
count every 5xx that is not a 503 with `Retry-After`, which no outage excuses."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

MAX_WAIT_S = 10.0  # a Retry-After is honoured up to this


class GaveUp(RuntimeError):
    pass


@dataclass
class Tally:
    """Every attempt's outcome, and the 5xx answers that should not have happened."""

    attempts: Counter[str] = field(default_factory=Counter)
    unexpected_5xx: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"attempts": dict(self.attempts), "unexpected_5xx": self.unexpected_5xx}


class Brokers:
    """Round robin over the brokers' base URLs; a retry goes to the next one."""

    def __init__(self, urls: list[str], client: httpx.AsyncClient, tally: Tally) -> None:
        self._urls = urls
        self._turn = itertools.cycle(range(len(urls)))
        self._client = client
        self.tally = tally

    async def call(
        self,
        method: str,
        path: str,
        *,
        give_up_s: float,
        what: str,
        **kwargs: Any,
    ) -> httpx.Response:
        """The first answer that is neither 5xx nor 429; raises GaveUp after `give_up_s`."""
        deadline = time.monotonic() + give_up_s
        first = next(self._turn)
        for attempt in itertools.count():
            url = self._urls[(first + attempt) % len(self._urls)]
            wait = min(0.2 * 2**attempt, 2.0)
            try:
                response = await self._client.request(method, url + path, **kwargs)
            except httpx.TimeoutException:
                self.tally.attempts["timeout"] += 1
            except httpx.TransportError as exc:
                self.tally.attempts[f"connection:{type(exc).__name__}"] += 1
            else:
                status = response.status_code
                retry_after = _seconds(response.headers.get("retry-after"))
                self.tally.attempts[str(status)] += 1
                if status == 503 and retry_after is not None:
                    wait = min(retry_after, MAX_WAIT_S)
                elif status >= 500:
                    self.tally.unexpected_5xx.append(
                        {
                            "what": what,
                            "url": url + path,
                            "status": status,
                            "retry_after": response.headers.get("retry-after"),
                            "body": response.text[:500],
                            "at": time.strftime("%X"),
                        }
                    )
                elif status == 429:
                    wait = min(retry_after or 1.0, MAX_WAIT_S)
                else:
                    return response
            if time.monotonic() + wait > deadline:
                raise GaveUp(f"{what}: no answer after {give_up_s:.0f}s ({attempt + 1} attempts)")
            await asyncio.sleep(wait)  # back-off between retries, as any client does
        raise AssertionError("unreachable")


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


async def token(
    brokers: Brokers, client_id: str, secret: str, scope: str, *, give_up_s: float = 120
) -> str:
    response = await brokers.call(
        "POST",
        "/oauth/token",
        give_up_s=give_up_s,
        what=f"token for {client_id}",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(client_id, secret),
    )
    if response.status_code != 200:
        raise GaveUp(f"token for {client_id}: {response.status_code} {response.text[:300]}")
    value: str = response.json()["access_token"]
    return value


def problem_type(response: httpx.Response) -> str:
    """The slug of a problem JSON's `type` ("not-the-approver"), or ""."""
    try:
        kind = response.json().get("type", "")
    except ValueError:
        return ""
    return str(kind).rsplit("/", 1)[-1]
