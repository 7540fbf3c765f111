"""People sign in through the broker as an OpenID Connect provider (authlib): the
authorization code grant with PKCE S256 required, refresh tokens, ID tokens signed with the
broker's keys.

authlib's grants are synchronous and the database is not. The endpoint therefore loads what a
call needs first (the code or refresh token, row-locked, and its person) into a `SignInState`,
runs authlib, and authlib's hooks only read that state and change or add rows in its session;
the request's transaction commits them. Codes and refresh tokens are kept as SHA-256 hashes.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, UserInfo
from sqlalchemy.ext.asyncio import AsyncSession

from broker.oauth.keys import ALGORITHM, KeyRing
from broker.oauth.scopes import IDENTITY_SCOPES, ROLE_SCOPES, parse_scope
from broker.people.roles import Role
from broker.people.sessions import PersonView
from core.models.oauth import AuthorizationCode, RefreshToken
from core.models.people import Person

CODE_LIFETIME = timedelta(minutes=2)  # RFC 6749 4.1.2: short-lived, 10 minutes at most
GRANT_TYPES = ["authorization_code", "refresh_token"]


def token_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_refresh_token(**_: Any) -> str:
    return "rt_" + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class SignedInUser:
    """A person as authlib's grants and the token generator see them."""

    id: str
    username: str
    name: str
    organisation_id: str
    role: str
    auth_time: int

    @classmethod
    def of(cls, person: Person | PersonView, auth_time: datetime) -> SignedInUser:
        return cls(
            person.id, person.username, person.name, person.organisation_id, person.role,
            int(auth_time.timestamp()),
        )  # fmt: skip

    def get_user_id(self) -> str:
        return self.id

    def userinfo(self) -> dict[str, Any]:
        return {"sub": self.id, "name": self.name, "preferred_username": self.username,
                "org_id": self.organisation_id, "roles": [self.role]}  # fmt: skip

    def allowed(self, scope: str) -> str:
        """What of `scope` this person's role may hold: the identity scopes and its API scopes."""
        permitted = IDENTITY_SCOPES | ROLE_SCOPES[Role(self.role)]
        return " ".join(sorted(parse_scope(scope) & permitted))


@dataclass
class SignInState:
    """What the endpoint loaded for authlib (and where authlib's hooks write)."""

    session: AsyncSession
    now: datetime
    user: SignedInUser | None = None  # the signed-in person (authorize)
    code: AuthorizationCode | None = None  # the code presented, locked
    refresh: RefreshToken | None = None  # the refresh token presented, locked
    holder: SignedInUser | None = None  # the person the code or refresh token names
    refresh_lifetime: timedelta = timedelta(hours=8)  # REFRESH_TOKEN_TTL
    issued: AuthorizationCode | None = None  # the code authorize saved (the row: its hash)


_state: ContextVar[SignInState | None] = ContextVar("sign_in_state", default=None)


@contextmanager
def sign_in_state(state: SignInState) -> Iterator[SignInState]:
    token = _state.set(state)
    try:
        yield state
    finally:
        _state.reset(token)


def _current() -> SignInState:
    state = _state.get()
    if state is None:
        raise RuntimeError("authlib called outside the sign-in endpoints")
    return state


class RequiredS256(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 on every authorization request, confidential clients too (RFC 9700)."""

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError(
                "PKCE is required: send code_challenge with code_challenge_method=S256",
                redirect_uri=redirect_uri,
                state=grant.request.payload.state,
            )
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, code: AuthorizationCode) -> str:
        return code.code_challenge

    def get_authorization_code_challenge_method(self, code: AuthorizationCode) -> str:
        return code.code_challenge_method


class PersonCodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        state = _current()
        user: SignedInUser = request.user
        payload = request.payload.data
        state.issued = AuthorizationCode(
            id=token_hash(code),
            client_id=request.client.get_client_id(),
            person_id=user.id,
            redirect_uri=request.payload.redirect_uri,
            scope=user.allowed(request.scope or ""),
            nonce=payload.get("nonce"),
            code_challenge=payload["code_challenge"],
            code_challenge_method=payload["code_challenge_method"],
            auth_time=datetime.fromtimestamp(user.auth_time, tz=state.now.tzinfo),
            expires_at=state.now + CODE_LIFETIME,
        )
        state.session.add(state.issued)

    def query_authorization_code(self, code: str, client: Any) -> AuthorizationCode | None:
        state = _current()
        found = state.code
        if found is None or found.id != token_hash(code) or found.used_at is not None:
            return None  # unknown, or used before: codes are single-use
        if found.client_id != client.get_client_id() or found.expires_at <= state.now:
            return None
        return found

    def delete_authorization_code(self, code: AuthorizationCode) -> None:
        code.used_at = _current().now

    def authenticate_user(self, code: AuthorizationCode) -> SignedInUser | None:
        return _current().holder


class PersonRefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotated at each use: a stolen one shows on reuse

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        state = _current()
        found = state.refresh
        if found is None or found.id != token_hash(refresh_token):
            return None
        if found.revoked_at is not None or found.expires_at <= state.now:
            return None
        return found

    def authenticate_user(self, refresh_token: RefreshToken) -> SignedInUser | None:
        return _current().holder

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        refresh_token.revoked_at = _current().now


class PersonIdToken(OpenIDCode):  # type: ignore[misc]
    def __init__(self, keyring: KeyRing, issuer: str) -> None:
        super().__init__(require_nonce=False)
        self.keyring = keyring
        self.issuer = issuer

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return False  # codes are single-use and short-lived: a replayed nonce has no code

    def resolve_client_private_key(self, client: Any) -> Any:
        return self.keyring.signing_key

    def get_client_algorithm(self, client: Any) -> str:
        return ALGORITHM

    def get_encode_header(self, client: Any) -> dict[str, str]:
        return {"alg": ALGORITHM, "kid": str(self.keyring.signing_key.kid), "typ": "JWT"}

    def get_client_claims(self, client: Any) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": self.issuer, "aud": [client.get_client_id()], "iat": now,
                "exp": now + self.DEFAULT_EXPIRES_IN}  # fmt: skip

    def generate_user_info(self, user: SignedInUser, scope: str) -> UserInfo:
        return UserInfo(user.userinfo())


def register_person_grants(server: Any, keyring: KeyRing, issuer: str) -> None:
    server.register_grant(
        PersonCodeGrant, [RequiredS256(required=True), PersonIdToken(keyring, issuer)]
    )
    server.register_grant(PersonRefreshGrant)


def keep_refresh_token(token: dict[str, Any], request: OAuth2Request) -> None:
    state = _current()
    user: SignedInUser = request.user
    state.session.add(
        RefreshToken(
            id=token_hash(token["refresh_token"]),
            client_id=request.client.get_client_id(),
            person_id=user.id,
            scope=token.get("scope", ""),
            issued_at=state.now,
            expires_at=state.now + state.refresh_lifetime,
        )
    )
