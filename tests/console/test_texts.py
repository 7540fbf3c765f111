"""The console's words: every event a request's timeline can show is named in the scheme's words,
in Chinese and in English, rather than as its type."""

from __future__ import annotations

from typing import get_args

import pytest

from broker.console.texts import EVENTS, event_label
from core.events import ApprovalTask, GrantEventName, ProblemEventName, RequestEventName


def _task_type(task: str) -> str:
    """An approval task's CloudEvents type without the prefix, as requests/publish.py and
    requests/appeal_tasks.py write it (`approval.requested`, `approval.appeal_requested`)."""
    if task.startswith("approval."):
        return task
    return "approval." + task.replace(".", "_")


TIMELINE_TYPES = sorted(
    [f"request.{name.value}" for name in RequestEventName]
    + [f"grant.{name.value}" for name in GrantEventName]
    + [f"problem.{name.value}" for name in ProblemEventName]
    + [_task_type(task) for task in get_args(ApprovalTask.model_fields["task"].annotation)]
)


@pytest.mark.parametrize("event_type", TIMELINE_TYPES)
def test_every_timeline_event_has_words(event_type: str) -> None:
    assert event_type in EVENTS
    assert event_label(event_type, "zh") != event_type
    assert event_label(event_type, "en") != event_type
