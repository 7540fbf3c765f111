"""Cursor pagination over a stable sort key: a cursor is the opaque last key of a page."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Annotated, Generic, Protocol, TypedDict, TypeVar

from fastapi import Query
from pydantic import BaseModel

from broker.kit.problems import Problem

MAX_PAGE_SIZE = 200


class InvalidCursor(Problem):
    status = 422
    slug = "invalid-cursor"
    title = "Invalid cursor"
    title_zh = "分页游标无效"

    def __init__(self) -> None:
        super().__init__(
            "the cursor was not issued by this API",
            detail_zh="该分页游标不是本系统签发的",
            field="cursor",
        )


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor() from exc
    if "\x00" in key:  # no key this API issues has one, and PostgreSQL would refuse it
        raise InvalidCursor()
    return key


def next_cursor(keys: list[str], limit: int) -> str | None:
    """Pages are fetched with limit + 1 rows: the extra row says whether another page exists."""
    return encode_cursor(keys[limit - 1]) if len(keys) > limit else None


class Fetch(TypedDict):
    """What a listing's query is given (`**fetch(cursor, limit)`): the rows after the cursor's
    key, one more than the page holds."""

    after: str | None
    limit: int


def fetch(cursor: str | None, limit: int) -> Fetch:
    return Fetch(after=decode_cursor(cursor), limit=limit + 1)


class Keyed(Protocol):
    """A row listed by its id, the key its cursor holds."""

    @property
    def id(self) -> str: ...


def page_of(items: list[T], rows: Sequence[Keyed], limit: int) -> Page[T]:
    """The page of `items`, said from the first `limit` of the `rows` fetched (`fetch`)."""
    return Page(items=items, next_cursor=next_cursor([row.id for row in rows], limit))


CursorQuery = Annotated[str | None, Query(description="next_cursor of the previous page")]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="page size")]
