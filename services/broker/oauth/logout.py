"""Sign-out for relying parties (OpenID Connect RP-Initiated Logout 1.0): where the browser goes
afterwards, and whether the request proves that the signed-in person's own client asked.

A link to the logout endpoint is easy to plant on any page, and the session cookie rides along
on a top-level navigation (SameSite=Lax): so a request without an `id_token_hint` naming the
signed-in person ends nothing by itself, the person confirms it (spec section 2, "the OP MUST
ask the End-User" then)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy.ext.asyncio import AsyncSession

from broker.oauth.clients import find_client_record
from broker.oauth.keys import ALGORITHM, KeyRing

SIGNED_OUT = "/console/signin"


@dataclass(frozen=True)
class IdTokenHint:
    subject: str
    audience: tuple[str, ...]


def read_hint(keyring: KeyRing, issuer: str, hint: str | None) -> IdTokenHint | None:
    """The person and clients an ID token the broker signed names; None for anything else. An
    expired one still identifies them (the spec lets a hint outlive its token)."""
    if not hint:
        return None
    try:
        token = jwt.decode(hint, keyring.verification_keys, algorithms=[ALGORITHM])
    except (JoseError, ValueError):
        return None
    claims = token.claims
    audience = claims.get("aud")
    audiences = (audience,) if isinstance(audience, str) else tuple(audience or ())
    if claims.get("iss") != issuer.rstrip("/") or not isinstance(claims.get("sub"), str):
        return None
    return IdTokenHint(subject=claims["sub"], audience=tuple(str(a) for a in audiences))


def proves_the_person(hint: IdTokenHint | None, person_id: str, client_id: str | None) -> bool:
    """The hint names the signed-in person and, when a client is named, was issued to it."""
    if hint is None or hint.subject != person_id:
        return False
    return client_id is None or client_id in hint.audience


def client_of(client_id: str | None, hint: IdTokenHint | None) -> str | None:
    if client_id:
        return client_id
    return hint.audience[0] if hint is not None and len(hint.audience) == 1 else None


async def after_logout(
    session: AsyncSession, client_id: str | None, uri: str | None, state: str | None
) -> str:
    """`uri` when the client registered it, with `state` added; else the sign-in page (never
    an address nobody registered: that would make the broker an open redirector)."""
    if not client_id or not uri:
        return SIGNED_OUT
    record = await find_client_record(session, client_id)
    if record is None or uri not in record.redirect_uris:
        return SIGNED_OUT
    if not state:
        return uri
    return uri + ("&" if urlsplit(uri).query else "?") + urlencode({"state": state})
