from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from core.webhooks.urls import (
    CheckedUrl,
    Resolver,
    UnresolvableWebhookHost,
    UnsafeWebhookUrl,
    check_webhook_url,
)


def resolving_to(*addresses: str) -> Resolver:
    async def resolve(host: str, port: int) -> Sequence[str]:
        return addresses

    return resolve


async def public(host: str, port: int) -> Sequence[str]:
    return ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]


async def check(
    url: str, *, allow_private: bool = False, resolver: Resolver = public
) -> CheckedUrl:
    return await check_webhook_url(url, allow_private=allow_private, resolver=resolver)


async def test_a_public_https_url_is_accepted_with_every_address() -> None:
    checked = await check("https://Hooks.Example.COM./cdo?x=1")
    assert checked.host == "hooks.example.com"
    assert checked.port == 443
    assert checked.addresses == ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert not checked.host_is_ip


async def test_an_internationalised_name_is_checked_in_its_ascii_form() -> None:
    checked = await check("https://数据局.example:8443/")
    assert checked.host == "数据局".encode("idna").decode() + ".example"
    assert checked.port == 8443


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://169.254.169.254/latest/", "169.254.169.254 is a cloud metadata address"),
        ("https://10.0.0.1/hook", "10.0.0.1 is a private-network address"),
        ("https://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
        ("https://[::1]/hook", "::1 is a loopback address"),
        ("https://0.0.0.0/hook", "0.0.0.0 is an unspecified address"),
        ("https://100.64.1.1/hook", "carrier-grade NAT"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://240.0.0.1/hook", "reserved"),
        ("https://169.254.10.1/hook", "link-local"),
        ("https://[fd00:ec2::254]/hook", "cloud metadata"),
        ("https://[::ffff:10.1.2.3]/hook", "a private-network address (10.1.2.3) in IPv6 form"),
        ("https://192.0.2.7/hook", "192.0.2.7 is"),
        ("http://hooks.example.com/hook", "webhook URLs must use https"),
        ("ftp://hooks.example.com/hook", "webhook URLs must use https"),
        ("https://user:pw@hooks.example.com/hook", "may not contain a user name or password"),
        ("https://metadata.google.internal/computeMetadata/v1/", "cloud metadata service"),
        ("https:///hook", "no host"),
        ("https://[::1/hook", "not a valid URL"),
    ],
)
async def test_unsafe_urls_are_refused_saying_why(url: str, reason: str) -> None:
    with pytest.raises(UnsafeWebhookUrl, match=re.escape(reason)):
        await check(url)


async def test_a_name_resolving_to_loopback_is_refused() -> None:
    with pytest.raises(UnsafeWebhookUrl) as refused:
        await check("https://hooks.example.com/", resolver=resolving_to("127.0.0.1"))
    assert refused.value.reason == "hooks.example.com resolves to 127.0.0.1, a loopback address"


async def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    resolver = resolving_to("93.184.215.14", "192.168.1.20")
    with pytest.raises(UnsafeWebhookUrl, match=r"192\.168\.1\.20, a private-network address"):
        await check("https://hooks.example.com/", resolver=resolver)


async def test_numeric_tricks_are_caught_by_resolving_them() -> None:
    # "127.1" is no IP literal to Python but getaddrinfo reads it as 127.0.0.1 (no DNS involved).
    with pytest.raises(UnsafeWebhookUrl, match=r"127\.0\.0\.1, a loopback address"):
        await check_webhook_url("https://127.1/hook", allow_private=False)


async def test_a_name_that_does_not_resolve_is_refused_as_unresolvable() -> None:
    async def failing(host: str, port: int) -> Sequence[str]:
        raise OSError("Name or service not known")

    with pytest.raises(UnresolvableWebhookHost, match="does not resolve"):
        await check("https://nowhere.example/", resolver=failing)
    with pytest.raises(UnresolvableWebhookHost, match="any address"):
        await check("https://nowhere.example/", resolver=resolving_to())


async def test_allow_private_admits_http_loopback_and_private_networks() -> None:
    for url in ("http://127.0.0.1:8080/hook", "https://[::1]/hook", "http://10.0.0.1/hook"):
        assert (await check(url, allow_private=True)).host_is_ip
    local = await check("http://localhost:9000/", allow_private=True, resolver=resolving_to("::1"))
    assert local.addresses == ("::1",)
    assert local.port == 9000


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://100.100.100.200/latest/meta-data/",
        "http://metadata.google.internal/",
        "http://0.0.0.0:8000/",
        "http://user:pw@127.0.0.1/",
    ],
)
async def test_allow_private_still_refuses_metadata_and_nonsense(url: str) -> None:
    with pytest.raises(UnsafeWebhookUrl):
        await check(url, allow_private=True)


async def test_allow_private_still_refuses_a_name_resolving_to_metadata() -> None:
    metadata = resolving_to("169.254.169.254")
    with pytest.raises(UnsafeWebhookUrl, match=r"169\.254\.169\.254, a cloud metadata address"):
        await check("http://innocent.test/", allow_private=True, resolver=metadata)
