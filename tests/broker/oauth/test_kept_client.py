"""An introspecting client authenticated on the process's copy without authlib's request object
(oauth/introspection.py `kept_client_authenticates`): it says yes exactly where authlib's
`authenticate_client` authenticates the same client on the same call."""

from __future__ import annotations

import base64
import itertools

import pytest
from authlib.oauth2 import OAuth2Error
from joserfc.jwk import RSAKey
from starlette.datastructures import Headers

from broker.oauth.introspection import kept_client_authenticates
from broker.oauth.keys import KeyRing
from broker.oauth.server import (
    TOKEN_AUTH_METHODS,
    BrokerAuthorizationServer,
    ClientRecord,
    StarletteOAuth2Request,
    hash_secret,
    preloaded_client,
)

SECRET = "s3cret"
RECORD = ClientRecord("intro-1", "gz-rsj", "tokens:introspect", hash_secret(SECRET), False)
REVOKED = ClientRecord("intro-1", "gz-rsj", "tokens:introspect", hash_secret(SECRET), True)


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


AUTHORIZATIONS = [
    None,
    _basic("intro-1", SECRET),
    _basic("intro-1", "wrong"),
    _basic("other", SECRET),
    _basic("intro%2D1", SECRET),  # authlib unquotes the id
    _basic("intro-1", ""),
    "Basic " + base64.b64encode(b"intro-1").decode(),  # no secret at all
    "Basic !!!",
    "basic " + base64.b64encode(f"intro-1:{SECRET}".encode()).decode(),
    "Bearer abc",
    "Basic",
]
FORMS = [
    {},
    {"client_id": "intro-1", "client_secret": SECRET},
    {"client_id": "intro-1", "client_secret": "wrong"},
    {"client_id": "other", "client_secret": SECRET},
    {"client_id": "intro-1"},
    {"client_id": "intro-1", "client_secret": ""},
]
URLS = [
    "https://broker.example/oauth/introspect",
    "http://127.0.0.1:8000/oauth/introspect",
    "http://localhost/oauth/introspect",
    "http://broker.example/oauth/introspect",  # not over TLS, not loopback: authlib refuses
]


@pytest.fixture(scope="module")
def server() -> BrokerAuthorizationServer:
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    return BrokerAuthorizationServer(KeyRing(signing_key=key, keys=(key,)), "http://b.test", 300)


def _authlib_says(
    server: BrokerAuthorizationServer,
    record: ClientRecord,
    url: str,
    headers: Headers,
    form: dict[str, str],
) -> bool:
    with preloaded_client(record):
        try:
            request = StarletteOAuth2Request("POST", url, headers, form)
            server.authenticate_client(request, TOKEN_AUTH_METHODS, endpoint="introspection")
        except OAuth2Error:
            return False
    return True


@pytest.mark.parametrize("record", [RECORD, REVOKED], ids=["kept", "revoked"])
@pytest.mark.parametrize("url", URLS)
def test_the_kept_client_is_authenticated_where_authlib_authenticates_it(
    server: BrokerAuthorizationServer,
    record: ClientRecord,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AUTHLIB_INSECURE_TRANSPORT", raising=False)
    said_yes = 0
    for authorization, form in itertools.product(AUTHORIZATIONS, FORMS):
        headers = Headers({"authorization": authorization} if authorization is not None else {})
        expected = _authlib_says(server, record, url, headers, form)
        assert kept_client_authenticates(record, url, headers, form) is expected, (
            authorization,
            form,
        )
        said_yes += expected
    # the cases above include some that authenticate, unless nothing may
    may = not record.revoked and not url.startswith("http://broker.")
    assert bool(said_yes) is may


def test_insecure_transport_allowed_by_authlib_s_setting_is_allowed_here_too(
    server: BrokerAuthorizationServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    url, headers = "http://broker.example/oauth/introspect", Headers({})
    form = {"client_id": "intro-1", "client_secret": SECRET}
    assert _authlib_says(server, RECORD, url, headers, form)
    assert kept_client_authenticates(RECORD, url, headers, form)
