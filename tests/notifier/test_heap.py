"""A notifier freezes what its start-up leaves alive out of the cycle collector's walks, as the
broker does (`core/heap.py`), and gives it back when it stops."""

from __future__ import annotations

import gc

import pytest

from testing.apps import running_notifier
from testing.settings import Settings

pytestmark = pytest.mark.integration


async def test_the_notifier_freezes_what_start_up_leaves_and_thaws_when_it_stops(
    settings: Settings,
) -> None:
    gc.unfreeze()  # an app of this run may have frozen the process already

    async with running_notifier(settings):
        frozen = gc.get_freeze_count()

    assert frozen > 0
    assert gc.get_freeze_count() == 0
