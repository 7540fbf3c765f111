"""`GET /v1/grants/changes` as server-sent events: what one provider's listener receives.

Without `Last-Event-ID` the stream opens with the provider's grants that are paused, revoked or
expired but not yet past their end (`grant.state` events, no id: their tokens still verify), then
`ready` (`"snapshot": true`) carrying the feed position as its id. With one, it resumes after
that position (`ready`, `"snapshot": false`, once caught up; a position this feed never reached
gets the snapshot instead). Then each change as `grant.<event>` with its position as id, and a
`heartbeat` with the position reached whenever nothing happened for a while, so that a reconnect
resumes from there. The stream ends when the caller's token expires (reconnect with a fresh
token), or at `ready` if the caller asked not to follow. Whatever was committed before the
caller connected comes before `ready`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from broker.grants.feed import GrantFeed
from broker.grants.repository import Change, Position
from broker.kit.problems import Problem, Worded
from core.clock import utcnow

_EVENT_ID = re.compile(r"^(\d{1,19})-(\d{1,19})$")


class InvalidEventId(Worded, Problem):
    status = 422
    slug = "invalid-last-event-id"
    title = "Last-Event-ID was not issued by this feed"
    title_zh = "Last-Event-ID 无效"
    # `{:.60}`: the value's first 60 characters, no more of whatever the client sent
    wording = (
        "'{:.60}' is not a feed position (<transaction>-<sequence>)",
        "“{:.60}”不是本消息流的位置（<事务号>-<序号>）",
    )
    field = "Last-Event-ID"


def event_id(position: Position) -> str:
    return f"{position[0]}-{position[1]}"


def parse_event_id(value: str | None) -> Position | None:
    if value is None or not value.strip():
        return None
    match = _EVENT_ID.match(value.strip())
    if match is None:
        raise InvalidEventId(value)
    return int(match[1]), int(match[2])


def sse(name: str, data: dict[str, Any], position: Position | None = None) -> bytes:
    head = f"id: {event_id(position)}\n" if position is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _change(change: Change, name: str | None = None) -> bytes:
    position = None if name else change.position
    return sse(name or f"grant.{change.event}", change.as_json(), position)


async def listen(
    feed: GrantFeed,
    provider_id: str,
    resume_after: Position | None,
    *,
    until: float,
    heartbeat_s: float,
    retry_ms: int,
    clock: Callable[[], float] = time.time,
) -> AsyncIterator[bytes]:
    """The event stream of one listener, ending at `until` (unix seconds)."""
    yield f"retry: {retry_ms}\n\n".encode()
    await feed.started.wait()
    # Everything committed before the caller connected is in what comes before `ready`.
    await feed.read()
    if resume_after is not None and resume_after > feed.position:
        resume_after = None  # not a position of this database: start afresh
    snapshot = resume_after is None
    if resume_after is None:
        standing, cursor = await feed.standing(provider_id, now=utcnow())
        for change in standing:
            yield _change(change, "grant.state")
    else:
        cursor = resume_after
        while cursor < feed.position:
            changes, cursor = await feed.next_for(provider_id, cursor, wait_s=0)
            for change in changes:
                yield _change(change)
    yield sse("ready", {"position": event_id(cursor), "snapshot": snapshot}, cursor)
    last_sent = clock()
    while (left := until - clock()) > 0:
        due = last_sent + heartbeat_s - clock()
        if due <= 0:
            yield sse("heartbeat", {}, cursor)
            last_sent = clock()
            continue
        changes, cursor = await feed.next_for(provider_id, cursor, wait_s=min(due, left))
        for change in changes:
            yield _change(change)
        if changes:
            last_sent = clock()
