"""A notification channel's credentials. A group robot's webhook URL carries its credential in the
query (WeCom's `key`, DingTalk's `access_token`): the broker keeps it out of the URL and encrypted
with DingTalk's signing secret (broker/notifications); the notifier puts it back when it sends."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from core.models.notifications import NotificationChannel
from core.webhooks.secrets import SecretCipher

CREDENTIAL_PARAM = {"wecom": "key", "dingtalk": "access_token"}


def credentials_of(channel: NotificationChannel, cipher: SecretCipher) -> dict[str, str]:
    if channel.secret_ciphertext is None:
        return {}
    stored: dict[str, str] = json.loads(cipher.decrypt(channel.secret_ciphertext))
    return stored


def with_credential(url: str, param: str, value: str) -> str:
    """The URL a message is sent to: `url` with the credential put back."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), (param, value)]
    return urlunsplit(parts._replace(query=urlencode(query)))
