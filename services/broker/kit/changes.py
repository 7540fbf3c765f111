"""A partial change (a PATCH body) applied to a row: a field the body sets to a value that differs
from the row's is changed; one it leaves out, or sets to null, stays as it is."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


def apply_change(
    row: object, change: BaseModel, *, mode: Literal["python", "json"] = "python"
) -> dict[str, tuple[Any, Any]]:
    """Sets on `row` what `change` changes (its values dumped in `mode`, as the row holds them)
    and returns each changed field's value before and after, in the body's field order: empty
    when nothing changes, so the caller records no change."""
    changed = {
        field: (getattr(row, field), value)
        for field, value in change.model_dump(mode=mode, exclude_unset=True).items()
        if value is not None and getattr(row, field) != value
    }
    for field, (_, value) in changed.items():
        setattr(row, field, value)
    return changed
