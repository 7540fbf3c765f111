from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from core.webhooks.signing import InvalidSecret, generate_secret, headers_for, sign

BODY = '{"type":"approval.requested","data":{"title":"人口基础信息共享"}}'.encode()


def test_a_generated_secret_is_whsec_and_32_random_bytes() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert generate_secret() != secret


def test_the_spec_example_signs_as_published() -> None:
    # The worked example of the Standard Webhooks specification.
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_reference_library_accepts_the_signature_of_the_exact_bytes() -> None:
    secret = generate_secret()
    headers = headers_for(secret, "msg_1", int(time.time()), BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert Webhook(secret).verify(BODY, headers)["data"]["title"] == "人口基础信息共享"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY + b" ", headers)


def test_during_a_rotation_both_signatures_are_sent_and_each_secret_verifies() -> None:
    old, new = generate_secret(), generate_secret()
    headers = headers_for((new, old), "msg_2", int(time.time()), BODY)
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert all(s.startswith("v1,") for s in signatures)
    for secret in (old, new):
        Webhook(secret).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_the_same_secret_twice_signs_once() -> None:
    secret = generate_secret()
    assert sign([secret, secret], "msg_3", 1, BODY) == sign(secret, "msg_3", 1, BODY)


def test_it_agrees_with_the_reference_signer() -> None:
    secret = generate_secret()
    stamp = 1_700_000_000
    expected = Webhook(secret).sign("msg_4", datetime.fromtimestamp(stamp, UTC), BODY.decode())
    assert sign(secret, "msg_4", stamp, BODY) == expected


@pytest.mark.parametrize(
    "secret",
    ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_"],
    ids=["no prefix", "not base64", "empty"],
)
def test_malformed_secrets_are_refused(secret: str) -> None:
    with pytest.raises(InvalidSecret):
        sign(secret, "msg_5", 1, BODY)


def test_signing_needs_a_secret_and_an_id() -> None:
    with pytest.raises(InvalidSecret):
        sign([], "msg_6", 1, BODY)
    with pytest.raises(ValueError, match="id"):
        sign(generate_secret(), "", 1, BODY)
