"""What a posted console form comes to, the same for every form: done, a redirect (303) to the
page that says so; refused (a problem of the services, a schema's rule, or the console's own
check), the form's page again with the refusal in words, and nothing the form did kept."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from broker.console.refusals import Refused, in_words, status_of
from broker.console.web import language
from broker.kit.problems import Problem

REFUSALS = (Problem, ValidationError, Refused)


class Again(Protocol):
    """The form's page again, saying why the form was refused."""

    def __call__(self, *, error: str, status_code: int) -> Awaitable[HTMLResponse]: ...


async def outcome(
    request: Request, session: AsyncSession, act: Awaitable[object], again: Again, done: str
) -> Response:
    """`act` (the form's rules, then the service; a coroutine not yet awaited) done: a redirect
    to `done`; refused: `again`."""
    try:
        await act
    except REFUSALS as refused:
        return await refused_again(request, session, refused, again)
    return RedirectResponse(done, status_code=303)


async def refused_again(
    request: Request, session: AsyncSession, refused: Exception, again: Again
) -> HTMLResponse:
    await session.rollback()  # nothing refused changes anything
    return await again(error=in_words(refused, language(request)), status_code=status_of(refused))
