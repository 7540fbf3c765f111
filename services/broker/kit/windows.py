"""The rule every time window a caller gives follows, said the same way wherever it is given."""

from __future__ import annotations

from datetime import datetime

from broker.kit.validation_errors import Refusal


def require_end_after_start(
    start: datetime, end: datetime | None, *, start_field: str, end_field: str
) -> None:
    """Refuses a window that ends at or before its start (an open end, None, passes), naming
    its end field first in both languages, as validation errors do."""
    if end is not None and end <= start:
        raise Refusal(
            f"{end_field}: must be after {start_field}", f"{end_field}: 结束时间须晚于开始时间"
        )
