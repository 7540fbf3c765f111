"""Loads what authlib's person grants need at the token endpoint: the code or refresh token
presented, row-locked (two uses of one code at once: the second waits, then finds it used), and
the person it names if that person may still sign in. Audits the code authorize issued."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.oauth.oidc import SignedInUser, SignInState, token_hash
from core.models.oauth import AuthorizationCode, RefreshToken
from core.models.people import Person


async def held_sign_in(
    session: AsyncSession, form: dict[str, str], *, now: datetime, refresh_ttl: int
) -> SignInState:
    state = SignInState(session, now, refresh_lifetime=timedelta(seconds=refresh_ttl))
    grant_type = form.get("grant_type")
    person_id: str | None = None
    auth_time = now
    if grant_type == "authorization_code" and form.get("code"):
        code = await session.get(AuthorizationCode, token_hash(form["code"]), with_for_update=True)
        if code is not None:
            state.code, person_id, auth_time = code, code.person_id, code.auth_time
    elif grant_type == "refresh_token" and form.get("refresh_token"):
        refresh = await session.get(
            RefreshToken, token_hash(form["refresh_token"]), with_for_update=True
        )
        if refresh is not None:
            state.refresh, person_id, auth_time = refresh, refresh.person_id, refresh.issued_at
    person = await session.get(Person, person_id) if person_id else None
    if person is not None and person.disabled_at is None:
        state.holder = SignedInUser.of(person, auth_time)
    return state


async def record_issued_code(state: SignInState) -> None:
    """The code authorize saved, if it saved one: the person, for the client, with the scope
    their role allows (the code itself is never recorded; it is kept as a hash)."""
    code, user = state.issued, state.user
    if code is None or user is None:
        return
    person = Actor(user.organisation_id, code.client_id, user.id)
    await audit.record(
        state.session, "oauth.code_issued", actor=person, subject=code.client_id, now=state.now,
        scope=code.scope, redirect_uri=code.redirect_uri,
    )  # fmt: skip
