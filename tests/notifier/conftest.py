"""Fixtures of the notifier's tests: webhook receivers (testing/receivers.py), a notifier in this
process, the HTTP client the notifier delivers with."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from notifier.delivery import webhook_client
from testing.apps import running_notifier
from testing.processes import free_port
from testing.receivers import Receiver, Tls, running_receiver, tls_contexts
from testing.settings import Settings


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return tls_contexts(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def tls_receiver(tls: Tls) -> AsyncIterator[Receiver]:
    async with running_receiver(tls.server) as running:
        yield running


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


@pytest.fixture
async def other_receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


@pytest.fixture
async def notifier_port(settings: Settings) -> AsyncIterator[int]:
    """A notifier in this process, in a new consumer group that starts at the topics' end, with
    loopback webhooks and quick retries; its `/healthz`, `/readyz`, `/metrics` on the port."""
    port = free_port()
    quick = {"webhook_retry_schedule": "0.2,0.2,0.2"}
    async with running_notifier(settings, http=("127.0.0.1", port), **quick):
        yield port


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with webhook_client() as client:
        yield client
