"""`cdo-broker notifier`: the webhook notifier (consumes Kafka, delivers signed webhooks)."""

from __future__ import annotations

import sys
from typing import Any


def run(settings: Any) -> int:
    # Issue 4 builds the consumer and delivery; until then the command says so plainly.
    print("cdo-broker notifier: not yet (the notifier is built in issue 4)", file=sys.stderr)
    return 0
