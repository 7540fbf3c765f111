"""Cursor pagination over a stable sort key: a cursor is the opaque last key of a page."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Generic, TypeVar

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


CursorQuery = Annotated[str | None, Query(description="next_cursor of the previous page")]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="page size")]
