"""Which webhook URLs the notifier may call: a guard against server-side request forgery.

A registered URL must be https, carry no user name or password, and name a host whose every
address (the literal one, or all that the name resolves to) is on the public internet. Local
demos and tests set `allow_private` to admit http and loopback / private-network addresses; the
cloud metadata services, link-local, multicast, unspecified and reserved addresses stay refused
even then, since no receiver lives there and metadata services hand out credentials.

The URL is parsed by httpx, the client that later sends the request, so that the host checked is
the host connected to (two parsers disagreeing on a URL is a classic SSRF bypass).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

# Metadata services that sit outside link-local (which is refused as a whole): AWS over IPv6,
# Alibaba Cloud (common for Guangdong's government cloud tenants) and Oracle Cloud.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
    }
)
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class UnsafeWebhookUrl(ValueError):
    """A URL the notifier refuses to call; `reason` (and `reason_zh`, the same in Chinese) is fit
    to show to whoever registered it."""

    def __init__(self, reason: str, reason_zh: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reason_zh = reason_zh


class UnresolvableWebhookHost(UnsafeWebhookUrl):
    """The host name does not resolve (now): refused at registration, retried at delivery."""


@dataclass(frozen=True)
class CheckedUrl:
    url: str  # as httpx normalises it
    scheme: str
    host: str  # ASCII (IDNA) name or IP literal without brackets: the Host header and TLS SNI
    port: int
    addresses: tuple[str, ...]  # every address the host had when checked, all allowed
    host_is_ip: bool


async def resolve_with_loop(host: str, port: int) -> list[str]:
    """All addresses of `host`, through the event loop's getaddrinfo (never blocking the loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), which is where it leads."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(ip: IPAddress, *, allow_private: bool) -> tuple[str, str] | None:
    """Why `ip` may not receive webhooks, in English and Chinese (e.g. "a loopback address",
    "回环地址"), or None if it may."""
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address", "云元数据服务地址"
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        inner = address_refusal(embedded, allow_private=allow_private)
        if inner is None:
            return None
        return f"{inner[0]} ({embedded}) in IPv6 form", f"IPv6 形式的{inner[1]}（{embedded}）"
    if ip.is_unspecified or ip in _THIS_NETWORK:
        return "an unspecified address", "未指定地址"
    if ip.is_link_local:
        return (
            "a link-local address (where cloud metadata services live)",
            "链路本地地址（云元数据服务所在）",
        )
    if ip.is_multicast:
        return "a multicast address", "组播地址"
    if ip.is_loopback:  # before "reserved": Python counts ::1 as part of the reserved ::/8
        return None if allow_private else ("a loopback address", "回环地址")
    if ip.is_reserved:
        return "a reserved address", "保留地址"
    if allow_private:
        return None
    if ip in _CGNAT:
        return "a carrier-grade NAT (shared) address", "运营商级 NAT（共享）地址"
    if ip.is_private:
        return "a private-network address", "内网地址"
    if not ip.is_global:
        return "not a public internet address", "非公网地址"
    return None


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def check_webhook_url(
    url: str, *, allow_private: bool, resolver: Resolver | None = None
) -> CheckedUrl:
    """Parse and vet a webhook URL; raises `UnsafeWebhookUrl` with the reason when refused."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnsafeWebhookUrl(
            f"the webhook URL is not a valid URL: {exc}", f"Webhook 地址不是有效的 URL：{exc}"
        ) from None
    allowed_schemes = ("https", "http") if allow_private else ("https",)
    if parsed.scheme not in allowed_schemes:
        raise UnsafeWebhookUrl("webhook URLs must use https", "Webhook 地址须使用 https")
    if parsed.userinfo:
        raise UnsafeWebhookUrl(
            "webhook URLs may not contain a user name or password",
            "Webhook 地址不得包含用户名或密码",
        )
    host = parsed.raw_host.decode("ascii").lower().rstrip(".")
    if not host:
        raise UnsafeWebhookUrl("the webhook URL has no host", "Webhook 地址没有主机名")
    if host in METADATA_HOSTS:
        raise UnsafeWebhookUrl(f"{host} is a cloud metadata service", f"{host} 是云元数据服务")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)

    literal = _literal_ip(host)
    if literal is not None:
        refusal = address_refusal(literal, allow_private=allow_private)
        if refusal is not None:
            raise UnsafeWebhookUrl(f"{literal} is {refusal[0]}", f"{literal} 是{refusal[1]}")
        addresses: tuple[str, ...] = (str(literal),)
    else:
        resolved = await _resolve(host, port, resolver or resolve_with_loop)
        for ip in resolved:  # every one: the connection may be made to any of them
            refusal = address_refusal(ip, allow_private=allow_private)
            if refusal is not None:
                raise UnsafeWebhookUrl(
                    f"{host} resolves to {ip}, {refusal[0]}", f"{host} 解析为 {ip}，是{refusal[1]}"
                )
        addresses = tuple(str(ip) for ip in resolved)
    return CheckedUrl(
        url=str(parsed),
        scheme=parsed.scheme,
        host=host,
        port=port,
        addresses=addresses,
        host_is_ip=literal is not None,
    )


async def _resolve(host: str, port: int, resolver: Resolver) -> tuple[IPAddress, ...]:
    try:
        answers = await resolver(host, port)
    except (OSError, UnicodeError) as exc:  # socket.gaierror is an OSError
        raise UnresolvableWebhookHost(
            f"{host} does not resolve: {exc}", f"无法解析主机名 {host}：{exc}"
        ) from None
    try:  # a scoped IPv6 answer ("fe80::1%eth0") is checked without its zone id
        resolved = tuple(dict.fromkeys(ipaddress.ip_address(a.partition("%")[0]) for a in answers))
    except ValueError as exc:
        raise UnresolvableWebhookHost(
            f"{host} resolves to something unusable: {exc}", f"{host} 解析出的地址不可用：{exc}"
        ) from None
    if not resolved:
        raise UnresolvableWebhookHost(
            f"{host} does not resolve to any address", f"{host} 没有解析出任何地址"
        )
    return resolved
