"""What a posted console form comes to (console/outcomes.py): done, a 303 to the page saying so;
refused, whatever the form did rolled back and its page again with the refusal in words and its
status; anything else is not a refusal and goes on up."""

from __future__ import annotations

from typing import cast

import pytest
from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from broker.console.outcomes import outcome
from broker.console.refusals import Refused
from broker.requests.exceptions import RequestNotFound


class Session:
    """Only what outcome() asks of a session: whether it rolled back."""

    def __init__(self) -> None:
        self.rolled_back = False

    async def rollback(self) -> None:
        self.rolled_back = True


class Page:
    """The form's page again, as outcome() asks for it."""

    def __init__(self) -> None:
        self.shown: tuple[str, int] | None = None

    async def __call__(self, *, error: str, status_code: int) -> HTMLResponse:
        self.shown = (error, status_code)
        return HTMLResponse(error, status_code=status_code)


def _request(query: bytes = b"") -> Request:
    return Request({"type": "http", "method": "POST", "headers": [], "query_string": query})


async def _posted(refusal: Exception | None) -> None:
    if refusal is not None:
        raise refusal


async def test_done_is_a_redirect_and_nothing_is_rolled_back() -> None:
    session, page = Session(), Page()

    done = await outcome(
        _request(), cast(AsyncSession, session), _posted(None), page, "/console/x?done=y"
    )

    assert (done.status_code, done.headers["location"]) == (303, "/console/x?done=y")
    assert not session.rolled_back
    assert page.shown is None


async def test_the_consoles_refusal_is_the_page_again_in_words_rolled_back() -> None:
    session, page = Session(), Page()

    await outcome(
        _request(b"lang=en"), cast(AsyncSession, session),
        _posted(Refused("answer_required")), page, "/console/x",
    )  # fmt: skip

    assert session.rolled_back
    assert page.shown == ("The answer is empty", 422)


async def test_a_services_problem_is_said_with_its_status() -> None:
    session, page = Session(), Page()

    await outcome(
        _request(), cast(AsyncSession, session), _posted(RequestNotFound("r-1")), page, "/x"
    )

    assert session.rolled_back
    assert page.shown is not None
    assert page.shown[1] == 404


async def test_what_is_not_a_refusal_goes_on_up_unshown() -> None:
    session, page = Session(), Page()

    with pytest.raises(RuntimeError):
        await outcome(
            _request(), cast(AsyncSession, session), _posted(RuntimeError("bug")), page, "/x"
        )

    assert page.shown is None
