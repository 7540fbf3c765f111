"""A lookup's row, or its domain's 404 built from the arguments given."""

from __future__ import annotations

import pytest

from broker.grants.exceptions import GrantNotFound
from broker.kit.lookups import found
from broker.webhooks.exceptions import EndpointNotFound


def test_a_row_found_is_the_answer() -> None:
    row = object()
    assert found(row, GrantNotFound, "grt_1") is row


def test_a_row_not_found_raises_the_domains_404_with_its_arguments() -> None:
    with pytest.raises(GrantNotFound) as missing:
        found(None, GrantNotFound, "grt_1")
    assert missing.value.status == 404
    assert missing.value.detail == "no grant 'grt_1' visible to you"
    assert missing.value.extensions == {"grant_id": "grt_1"}


def test_a_404_without_arguments() -> None:
    with pytest.raises(EndpointNotFound):
        found(None, EndpointNotFound)
