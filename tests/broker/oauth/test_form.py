"""The OAuth endpoints' form (oauth/endpoints.py `_form`): read as Starlette reads it, whichever
parser reads it."""

from __future__ import annotations

import random

import pytest
from starlette.requests import Request

from broker.oauth.endpoints import _form

TRICKY = [
    b"grant_type=client_credentials&scope=requests%3Aread+requests%3Asubmit",
    b"a=1;b=2",
    b"a",
    b"a&b=",
    b"=x",
    b"a=1&&b=2",
    b"a=%zz",
    b"a=%E4%BD%A0",
    "a=你".encode(),
    b"a=1&a=2",
    b"a+b=c+d",
    b"a=b=c",
    b"&",
    b"",
    b"%00=1",
    b"a=%",
    b"x=" + b"y" * 5000,
]


def _request(body: bytes, content_type: str) -> Request:
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [(b"content-type", content_type.encode())]
    return Request({"type": "http", "method": "POST", "headers": headers}, receive)


async def _starlettes(body: bytes, content_type: str) -> dict[str, str]:
    return {k: str(v) for k, v in (await _request(body, content_type).form()).items()}


def _bodies() -> list[bytes]:
    alphabet = b"ab=&;%+2E0x "
    rng = random.Random(17)
    return TRICKY + [bytes(rng.choices(alphabet, k=rng.randint(0, 12))) for _ in range(2000)]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "Application/X-WWW-Form-Urlencoded; charset=utf-8",
        "text/plain",
    ],
)
async def test_the_form_is_read_as_starlette_reads_it(content_type: str) -> None:
    for body in _bodies():
        assert await _form(_request(body, content_type)) == await _starlettes(body, content_type), (
            body
        )


async def test_a_form_of_more_fields_than_starlette_takes_is_left_to_it() -> None:
    body = b"&".join(b"f%d=1" % i for i in range(1001))
    with pytest.raises(Exception, match="Too many fields"):
        await _starlettes(body, "application/x-www-form-urlencoded")
    with pytest.raises(Exception, match="Too many fields"):
        await _form(_request(body, "application/x-www-form-urlencoded"))
