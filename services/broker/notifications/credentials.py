"""A channel's settings from what an organisation sends, checked per kind. Pure: no I/O.

A group robot's webhook URL carries its credential in the query (WeCom's `key`, DingTalk's
`access_token`): whoever has it can post to the group. It is taken out of the URL, kept
encrypted with DingTalk's signing secret, and put back only when a message is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from broker.notifications.schemas import DEFAULT_EVENTS, ChannelIn, ChannelKind
from core.webhooks.credentials import CREDENTIAL_PARAM

# RFC 5321/5322 in the common, unquoted form; a domain of dot-separated labels.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+")
_PRINTABLE = re.compile(r"[\x21-\x7e]+")


# The channel kinds as people name them.
KINDS_ZH = {"wecom": "企业微信", "dingtalk": "钉钉", "email": "电子邮件"}


class InvalidSetting(ValueError):
    def __init__(self, field: str, reason: str, reason_zh: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.reason_zh = reason_zh


@dataclass(frozen=True)
class ChannelSettings:
    url: str | None  # without its credential
    credentials: dict[str, str]  # to encrypt
    recipients: list[str] | None
    events: list[str]


def settings_of(kind: ChannelKind, body: ChannelIn) -> ChannelSettings:
    """The channel's settings, or `InvalidSetting` naming the field that is wrong or missing."""
    events: list[str] = list(dict.fromkeys(body.events or DEFAULT_EVENTS))
    if kind == "email":
        _unused(body, "webhook_url", "secret")
        if not body.recipients:
            raise InvalidSetting(
                "recipients",
                "an e-mail channel needs at least one address",
                "电子邮件渠道至少需要一个收件地址",
            )
        return ChannelSettings(None, {}, addresses(body.recipients), events)
    _unused(body, "recipients")
    if body.webhook_url is None:
        raise InvalidSetting(
            "webhook_url",
            f"a {kind} channel needs the robot's webhook URL",
            f"{KINDS_ZH[kind]}渠道需要群机器人的 Webhook 地址",
        )
    url, credential = split_credential(body.webhook_url, CREDENTIAL_PARAM[kind])
    credentials = {CREDENTIAL_PARAM[kind]: credential}
    if kind == "dingtalk":
        if body.secret is None:
            raise InvalidSetting(
                "secret",
                "a DingTalk robot needs its signing secret (加签, SEC…)",
                "钉钉机器人需要其加签密钥（SEC…）",
            )
        if not body.secret.startswith("SEC") or not _PRINTABLE.fullmatch(body.secret):
            raise InvalidSetting(
                "secret",
                "a DingTalk signing secret starts with SEC, as the robot shows it",
                "钉钉加签密钥以 SEC 开头，与机器人设置中显示的一致",
            )
        credentials["secret"] = body.secret
    else:
        _unused(body, "secret")
    return ChannelSettings(url, credentials, None, events)


def _unused(body: ChannelIn, *names: str) -> None:
    for name in names:
        if getattr(body, name) is not None:
            raise InvalidSetting(
                name, "not a setting of this kind of channel", "此类渠道没有该设置项"
            )


def split_credential(url: str, param: str) -> tuple[str, str]:
    """(the URL without `param`, its value); the value must be there exactly once."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    values = [value for name, value in query if name == param]
    if len(values) != 1 or not _PRINTABLE.fullmatch(values[0]):
        raise InvalidSetting(
            "webhook_url",
            f"the robot's webhook URL must carry its `{param}` once",
            f"群机器人的 Webhook 地址须包含且只包含一个 `{param}` 参数",
        )
    rest = urlencode([(name, value) for name, value in query if name != param])
    return urlunsplit(parts._replace(query=rest)), values[0]


def addresses(recipients: list[str]) -> list[str]:
    """The addresses, checked (no display names, no header tricks), each once."""
    seen: dict[str, str] = {}
    for index, address in enumerate(recipients):
        if len(address) > 254 or not _ADDRESS.fullmatch(address):
            raise InvalidSetting(
                f"recipients.{index}",
                f"{address!r} is not an e-mail address",
                f"{address!r} 不是有效的电子邮件地址",
            )
        seen.setdefault(address.lower(), address)
    return list(seen.values())


def hint(value: str) -> str:
    """Enough of a credential to tell which one is set, never enough to use it."""
    return f"…{value[-4:]}" if len(value) >= 12 else "…"
