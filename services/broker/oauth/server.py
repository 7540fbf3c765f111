"""authlib's authorization server, adapted to Starlette and to an async database.

authlib's server is synchronous. The endpoint therefore loads the client (async) before it calls
authlib, and `query_client` answers from that preloaded record through a context variable.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2 import AuthorizationServer, OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.grants import BaseGrant, ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from fastapi.responses import JSONResponse, Response
from joserfc.jwk import KeySet

from broker.oauth.keys import ALGORITHM, KeyRing
from broker.oauth.oidc import (
    SignedInUser,
    keep_refresh_token,
    new_refresh_token,
    register_person_grants,
)
from broker.oauth.scopes import DATASET_SCOPE, FIXED_SCOPES, Scope, parse_scope

TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
# What authlib's grants and errors answer: status, body, headers (`handle_response`'s arguments)
Answer = tuple[int, dict[str, Any] | str, list[tuple[str, str]]]
_JTI_LENGTH = 16  # authlib's own (rfc9068 `get_jti`)
_JTI_CHARS = string.ascii_letters + string.digits
_UNBIASED = 256 - 256 % len(_JTI_CHARS)  # bytes below it map onto the characters evenly


def random_jti() -> str:
    """A token id as authlib makes one (16 of `_JTI_CHARS`, each uniformly at random), from one
    call to the system's random source instead of one a character."""
    chars: list[str] = []
    while len(chars) < _JTI_LENGTH:
        chars += [_JTI_CHARS[b % len(_JTI_CHARS)] for b in secrets.token_bytes(24) if b < _UNBIASED]
    return "".join(chars[:_JTI_LENGTH])


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(record: ClientRecord, secret: str) -> bool:
    return hmac.compare_digest(record.secret_hash, hash_secret(secret))


@dataclass(frozen=True)
class DataGrant:
    """An active grant, as an access token for `dataset:<id>:read` carries it (RFC 9396)."""

    grant_id: str
    dataset_id: str
    fields: tuple[str, ...]
    purpose: str
    jurisdiction: str | None
    ends_at: int  # unix seconds: no token outlives its grant
    request_id: str
    request_trace: tuple[str, str]  # the request's first trace and span, to link token calls to

    def authorization_details(self) -> list[dict[str, Any]]:
        detail: dict[str, Any] = {
            "type": "data_grant",
            "grant_id": self.grant_id,
            "dataset_id": self.dataset_id,
            "fields": list(self.fields),
            "purpose": self.purpose,
        }
        if self.jurisdiction is not None:
            detail["jurisdiction"] = self.jurisdiction
        return [detail]


@dataclass(frozen=True)
class ClientRecord:
    """What authlib needs of a client, detached from the database session."""

    client_id: str
    organisation_id: str
    scope: str
    secret_hash: str
    revoked: bool
    redirect_uris: tuple[str, ...] = ()  # a client with any signs people in (oauth/oidc.py)
    # Active grants of the client's organisation for the datasets the request asks about; None:
    # not read yet (a kept client's grant token reads them with its audit row, oauth/service.py).
    grants: dict[str, DataGrant] | None = field(default_factory=dict)


class AuthlibClient(ClientMixin):  # type: ignore[misc]
    def __init__(self, record: ClientRecord) -> None:
        self.record = record
        self.data_grant: DataGrant | None = None  # set when the token is for a dataset scope
        # (the scope, its dataset) when everything but the grant is checked, the grants unread
        self.grant_unread: tuple[str, str] | None = None

    def get_client_id(self) -> str:
        return self.record.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # every authorization request names its redirect_uri

    def get_allowed_scope(self, scope: str | None) -> str:
        # The grant has already refused anything outside the client's scopes.
        if scope:
            return scope
        return " ".join(sorted(parse_scope(self.record.scope) & FIXED_SCOPES))

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(self.record, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in TOKEN_AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type in ("authorization_code", "refresh_token"):
            return bool(self.record.redirect_uris)
        return grant_type == "client_credentials"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and bool(self.record.redirect_uris)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.record.redirect_uris  # exact match (RFC 9700 2.1)


class BrokerClientCredentialsGrant(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def validate_requested_scope(self) -> None:
        requested = parse_scope(self.request.payload.scope)
        client: AuthlibClient = self.request.client
        allowed = parse_scope(client.record.scope)
        datasets = [m for s in sorted(requested) if (m := DATASET_SCOPE.match(s))]
        if datasets:
            # One grant per token: its lifetime and authorization_details describe that grant.
            if len(requested) > 1:
                raise InvalidScopeError(description="ask for a dataset scope on its own")
            if Scope.grants_use.value not in allowed:
                raise InvalidScopeError(
                    description=f"'{datasets[0][0]}': this client is not allowed 'grants:use'"
                )
            scope, dataset_id = datasets[0][0], datasets[0]["dataset_id"]
            if client.record.grants is None:  # read with the audit row (oauth/service.py)
                client.grant_unread = (scope, dataset_id)
                return
            grant = client.record.grants.get(dataset_id)
            if grant is None:
                raise no_grant(scope)
            client.data_grant = grant
            return
        for scope in sorted(requested):
            if scope not in allowed:
                raise InvalidScopeError(description=f"'{scope}' is not granted to this client")


def no_grant(scope: str) -> InvalidScopeError:
    return InvalidScopeError(description=f"'{scope}': your organisation holds no active grant")


class BrokerTokenGenerator(JWTBearerTokenGenerator):  # type: ignore[misc]
    """RFC 9068 access tokens: `aud` is the broker's API, `org_id` names the caller."""

    def __init__(self, keyring: KeyRing, issuer: str, ttl_seconds: int) -> None:
        super().__init__(
            issuer=issuer,
            alg=ALGORITHM,
            expires_generator=self._lifetime,
            refresh_token_generator=new_refresh_token,
        )
        self.keyring = keyring
        self.ttl_seconds = ttl_seconds

    def _lifetime(self, client: AuthlibClient, grant_type: str) -> int:
        if client.data_grant is None:
            return self.ttl_seconds
        # authlib adds this to the current second: the token's exp never passes the grant's end
        return max(1, min(self.ttl_seconds, client.data_grant.ends_at - int(time.time())))

    def get_jwks(self) -> KeySet:
        return KeySet([self.keyring.signing_key])

    def get_audiences(self, client: AuthlibClient, user: Any, scope: str) -> str:
        return str(self.issuer)

    def get_jti(self, client: AuthlibClient, grant_type: str, user: Any, scope: str) -> str:
        return random_jti()

    def get_extra_claims(
        self, client: AuthlibClient, grant_type: str, user: Any, scope: str
    ) -> dict[str, Any]:
        if isinstance(user, SignedInUser):
            # A person's token: the person's organisation is the caller, whatever the client's.
            return {"org_id": user.organisation_id, "person_id": user.id, "name": user.name}
        claims: dict[str, Any] = {"org_id": client.record.organisation_id}
        if client.data_grant is not None:
            claims["authorization_details"] = client.data_grant.authorization_details()
        return claims


class StarletteOAuth2Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, method: str, uri: str, headers: Mapping[str, str], form: dict[str, str]):
        super().__init__(method=method, uri=uri, headers=headers)
        self._form = form
        self.payload = BasicOAuth2Payload(form)

    @property
    def args(self) -> dict[str, str]:
        return {}

    @property
    def form(self) -> dict[str, str]:
        return self._form


_preloaded: ContextVar[ClientRecord | None] = ContextVar("preloaded_client", default=None)


@contextmanager
def preloaded_client(record: ClientRecord | None) -> Iterator[None]:
    token = _preloaded.set(record)
    try:
        yield
    finally:
        _preloaded.reset(token)


class BrokerAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, keyring: KeyRing, issuer: str, ttl_seconds: int) -> None:
        super().__init__()
        self.register_grant(BrokerClientCredentialsGrant)
        register_person_grants(self, keyring, issuer)
        self.register_token_generator("default", BrokerTokenGenerator(keyring, issuer, ttl_seconds))

    def query_client(self, client_id: str) -> AuthlibClient | None:
        record = _preloaded.get()
        if record is None or record.client_id != client_id or record.revoked:
            return None
        return AuthlibClient(record)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        # JWT access tokens are self-contained; a person's refresh token is kept (as a hash).
        if "refresh_token" in token:
            keep_refresh_token(token, request)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: StarletteOAuth2Request) -> StarletteOAuth2Request:
        return request

    # authlib's `create_token_response` in two steps, each answering what `handle_response` is
    # given (the answer's body as a dict, not read back from the response's bytes), so that a
    # grant token's grant can be read between them: `validated`, then `answer`.

    def validated(self, request: StarletteOAuth2Request) -> BaseGrant | Answer:
        """The request's grant with the request validated, or the error's answer."""
        try:
            grant: BaseGrant = self.get_token_grant(request)
            grant.validate_token_request()
        except OAuth2Error as error:
            return self._error_answer(request, error)
        return grant

    def answer(self, grant: BaseGrant, error: OAuth2Error | None = None) -> Answer:
        """The validated `grant`'s token, or `error`'s answer (or the token's own error's)."""
        try:
            if error is not None:
                raise error
            answer: Answer = grant.create_token_response()
        except OAuth2Error as raised:
            return self._error_answer(grant.request, raised)
        return answer

    def _error_answer(self, request: OAuth2Request, error: OAuth2Error) -> Answer:
        answer: Answer = error(self.get_error_uri(request, error))
        return answer

    def handle_response(
        self, status: int, body: dict[str, Any] | str, headers: list[tuple[str, str]]
    ) -> Response:
        if isinstance(body, dict):
            return JSONResponse(body, status_code=status, headers=dict(headers))
        return Response(body, status_code=status, headers=dict(headers))  # the redirects
