"""A token's verified signature kept per process (oauth/verified.py): only the exact text that
verified is taken on trust, and its claims are still judged on every call."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from broker.kit.problems import Unauthorized
from broker.oauth.keys import ALGORITHM, KeyRing
from broker.oauth.principal import decode_access_token
from broker.oauth.verified import VerifiedTokens

ISSUER = "http://broker.test"


def _ring() -> KeyRing:
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    return KeyRing(signing_key=key, keys=(key,))


def _token(ring: KeyRing, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": ISSUER, "exp": now + 300, "iat": now, "jti": "j1"}
    payload |= {"client_id": "c1", "org_id": "gz-rsj", "scope": "requests:read", **claims}
    header = {"alg": ALGORITHM, "typ": "at+jwt", "kid": "k1"}
    return jwt.encode(header, payload, ring.signing_key)


def test_a_kept_token_answers_its_claims_again() -> None:
    ring = _ring()
    token = _token(ring)
    assert ring.verified.get(token) is None
    first = decode_access_token(token, ring, ISSUER)
    assert ring.verified.get(token) is not None  # kept: the next call checks no signature
    first["scope"] = "changed by a caller"
    assert decode_access_token(token, ring, ISSUER)["scope"] == "requests:read"


def test_an_expired_token_is_refused_every_time_though_its_signature_is_kept() -> None:
    ring = _ring()
    token = _token(ring, exp=int(time.time()) - 10)
    for _ in range(2):
        with pytest.raises(Unauthorized, match="exp"):
            decode_access_token(token, ring, ISSUER)


def test_another_issuer_is_refused_on_a_kept_token() -> None:
    ring = _ring()
    token = _token(ring)
    decode_access_token(token, ring, ISSUER)
    with pytest.raises(Unauthorized):
        decode_access_token(token, ring, "http://elsewhere.test")


def test_a_kept_signature_on_other_claims_is_refused() -> None:
    ring = _ring()
    token = _token(ring)
    decode_access_token(token, ring, ISSUER)
    header, _, signature = token.split(".")
    forged_payload = _token(ring, org_id="gd-zwfw").split(".")[1]
    with pytest.raises(Unauthorized, match="signature"):
        decode_access_token(f"{header}.{forged_payload}.{signature}", ring, ISSUER)


def test_a_token_kept_by_one_ring_is_not_trusted_by_another() -> None:
    signer, other = _ring(), _ring()
    token = _token(signer)
    decode_access_token(token, signer, ISSUER)
    with pytest.raises(Unauthorized, match="signature"):
        decode_access_token(token, other, ISSUER)


def test_the_least_recently_used_token_goes_first() -> None:
    kept = VerifiedTokens(size=2)
    kept.keep("a", {}, {"n": 1})
    kept.keep("b", {}, {"n": 2})
    assert kept.get("a") is not None  # "b" is now the least recently used
    kept.keep("c", {}, {"n": 3})
    assert kept.get("b") is None
    assert kept.get("a") is not None
    assert kept.get("c") is not None
