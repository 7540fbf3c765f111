"""Verifying the broker's webhooks (Standard Webhooks, https://www.standardwebhooks.com/).

    payload = verify_webhook(secret, request.headers, await request.body())
    event = parse_webhook(payload)   # typed: ApprovalWebhook | RequestDecidedWebhook | GrantWebhook

`webhook-signature` holds one or more space-separated `v1,<base64 HMAC-SHA256>` of
`"{webhook-id}.{webhook-timestamp}.{body}"`. During a secret rotation the broker signs with the
old and the new secret; give `verify_webhook` every secret you hold (old and new) and it accepts
a message that any of them signed, so you can switch whenever you like.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_S = 300.0  # how far the timestamp may be from now, either way (replays)


class WebhookVerificationError(Exception):
    """The message is not from the broker (or is a replay, or was changed): answer 400."""


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `v1,<signature>` one secret gives a message (for tests of your own receiver)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.digest(_key(secret), signed, hashlib.sha256)).decode()


def verify_webhook(
    secrets: str | Sequence[str],
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> dict[str, Any]:
    """The JSON payload if a `v1` signature matches one of `secrets` and the timestamp is within
    `tolerance` seconds of `now`; otherwise `WebhookVerificationError`."""
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    if not keys:
        raise ValueError("give at least one webhook secret")
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not msg_id or not stamp or not signatures:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise WebhookVerificationError("webhook-timestamp is not a number") from exc
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise WebhookVerificationError("webhook-timestamp is too far from now (a replay?)")
    raw = body.encode() if isinstance(body, str) else body
    offered = [s.strip() for s in signatures.split(" ") if s.strip().startswith("v1,")]
    expected = [sign(secret, msg_id, timestamp, raw) for secret in keys]
    if not any(hmac.compare_digest(o, e) for o in offered for e in expected):
        raise WebhookVerificationError("no signature matches the secrets given")
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise WebhookVerificationError("the body is not JSON") from exc
    if not isinstance(payload, dict):
        raise WebhookVerificationError("the body is not a JSON object")
    return payload
