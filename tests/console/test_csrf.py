"""Every console form refuses a post without the session's CSRF token, in words: the forms are
read from the app's routes, so a new one cannot be left out. (The sign-in form, before
any session exists, has its double-submit token: tests/console/test_signin_lockout.py.)"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest

from broker.app import create_app
from testing.people import Console
from testing.routes import app_routes

pytestmark = pytest.mark.integration

OpenConsole = Callable[..., Awaitable[Console]]
SIGN_IN = "/console/signin"
FORMS = sorted(  # collection time: no lifespan, nothing is connected
    path
    for method, path in app_routes(create_app())
    if method == "POST" and path.startswith("/console/") and path != SIGN_IN
)
# What each form requires besides the token: filled, so that the token alone is what is refused
FILLED = {"action": "approve", "decision": "uphold", "dataset_id": "x", "purpose": "x",
          "start": "2026-01-01", "end": "2026-01-02"}  # fmt: skip


def test_the_forms_are_found() -> None:
    assert "/console/requests/{request_id}/decision" in FORMS
    assert "/console/bureau/grants/{grant_id}/{action}" in FORMS
    assert "/console/signout" in FORMS


@pytest.mark.parametrize("form", FORMS)
async def test_a_form_without_the_token_is_refused_in_words(
    console: OpenConsole, form: str
) -> None:
    operator = await console("gz-dsb", "bureau_operator")  # reads every page, the bureau's too
    path = re.sub(r"\{action\}", "pause", re.sub(r"\{\w+_id\}", "x", form))

    refused = await operator.http.post(path, data=FILLED | {"csrf": "not-the-token"})

    assert refused.status_code == 403, refused.text
    assert "表单已失效，请刷新页面后重试" in refused.text
