"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

`webhook-signature` is `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the
base64-decoded part of the secret after `whsec_`. During a secret rotation the endpoint has two
secrets and every message carries both signatures, space-separated, so the receiver can switch
keys whenever it likes.

Signed by hand with the standard library rather than through the `standardwebhooks` package: its
`sign()` takes one secret and a `str` body (re-encoded before hashing), while we must sign the exact
bytes we send, with one or two secrets. The package verifies our signatures in the tests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as random_source
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # 256-bit HMAC key, the size the spec recommends


class InvalidSecret(ValueError):
    """A secret that is not `whsec_` followed by base64 of at least one byte."""


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(random_source.token_bytes(SECRET_BYTES)).decode("ascii")


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret(f"a webhook secret starts with {SECRET_PREFIX!r}")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise InvalidSecret("a webhook secret is base64 after its prefix") from exc
    if not key:
        raise InvalidSecret("a webhook secret may not be empty")
    return key


def sign(secrets: str | Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one `v1,…` per distinct secret, in the order given."""
    secret_list = [secrets] if isinstance(secrets, str) else list(dict.fromkeys(secrets))
    if not secret_list:
        raise InvalidSecret("at least one webhook secret is needed to sign")
    if not msg_id:
        raise ValueError("a webhook id may not be empty")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.digest(_key(s), signed, hashlib.sha256)).decode("ascii")
        for s in secret_list
    )


def headers_for(
    secrets: str | Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt at sending `body`."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secrets, msg_id, timestamp, body),
    }
