"""The pure state machine: properties that hold for every input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.requests.lifecycle import (
    FINAL_STATUSES,
    Grantable,
    RequestStatus,
    StepOutcome,
    Widening,
    can_transition,
    narrow,
    sla_clock_seconds,
    step_outcome,
)

FIELDS = ["a", "b", "c", "d", "e"]
BASE = datetime(2026, 1, 1, tzinfo=UTC)


@given(st.sampled_from(sorted(FINAL_STATUSES)), st.sampled_from(list(RequestStatus)))
def test_no_transition_leaves_a_final_state(final: RequestStatus, target: RequestStatus) -> None:
    assert not can_transition(final, target)


def test_pending_reaches_every_final_state() -> None:
    assert all(can_transition(RequestStatus.pending, final) for final in FINAL_STATUSES)


@given(st.data())
def test_n_of_a_set(data: st.DataObject) -> None:
    approvers = data.draw(st.integers(1, 6))
    required = data.draw(st.integers(1, approvers))
    approvals = data.draw(st.integers(0, approvers))
    rejections = data.draw(st.integers(0, approvers - approvals))
    outcome = step_outcome(
        required=required, approvals=approvals, rejections=rejections, approvers=approvers
    )
    if approvals >= required:
        assert outcome is StepOutcome.approved
    elif approvers - rejections < required:
        assert outcome is StepOutcome.rejected
    else:
        assert outcome is StepOutcome.open


@settings(max_examples=300)
@given(
    current=st.lists(st.sampled_from(FIELDS), min_size=1, unique=True),
    asked=st.none() | st.lists(st.sampled_from(FIELDS), unique=True),
    start_shift=st.none() | st.integers(-10, 400),
    end_shift=st.none() | st.integers(-10, 400),
)
def test_narrowing_never_widens(
    current: list[str], asked: list[str] | None, start_shift: int | None, end_shift: int | None
) -> None:
    granted = Grantable(tuple(current), BASE, BASE + timedelta(days=365))
    start = BASE + timedelta(days=start_shift) if start_shift is not None else None
    end = BASE + timedelta(days=end_shift) if end_shift is not None else None
    try:
        narrowed = narrow(granted, fields=asked, start=start, end=end)
    except Widening:
        return
    assert set(narrowed.fields) <= set(granted.fields)
    assert narrowed.fields
    assert granted.start <= narrowed.start < narrowed.end <= granted.end


@settings(max_examples=300)
@given(
    asked=st.lists(st.sampled_from(FIELDS), min_size=1, unique=True),
    approvals=st.lists(
        st.tuples(
            st.none() | st.lists(st.sampled_from(FIELDS), unique=True),
            st.none() | st.integers(-10, 400),
            st.none() | st.integers(-10, 400),
        ),
        max_size=5,
    ),
)
def test_a_narrowed_approval_never_widens_along_a_route(
    asked: list[str], approvals: list[tuple[list[str] | None, int | None, int | None]]
) -> None:
    """Each step's approver narrows what the step before granted (or keeps it): whatever the
    route, the grant at its end is within what was asked, and within each earlier approval."""
    original = Grantable(tuple(asked), BASE, BASE + timedelta(days=365))
    granted = original
    for fields, start_shift, end_shift in approvals:
        start = BASE + timedelta(days=start_shift) if start_shift is not None else None
        end = BASE + timedelta(days=end_shift) if end_shift is not None else None
        try:
            narrowed = narrow(granted, fields=fields, start=start, end=end)
        except Widening:
            continue  # refused: the approval is not recorded, the grant stays as it was
        for wider in (granted, original):
            assert set(narrowed.fields) <= set(wider.fields)
            assert wider.start <= narrowed.start < narrowed.end <= wider.end
        granted = narrowed
    assert granted.fields


def test_widening_names_the_field() -> None:
    granted = Grantable(("a",), BASE, BASE + timedelta(days=10))
    with pytest.raises(Widening) as caught:
        narrow(granted, fields=["a", "b"], start=None, end=None)
    assert caught.value.field == "fields"


def test_the_sla_clock_excludes_holds() -> None:
    started = BASE
    assert (
        sla_clock_seconds(
            started_at=started,
            now=started + timedelta(hours=10),
            held_seconds=3600,
            on_hold_since=None,
        )
        == 9 * 3600
    )
    assert (
        sla_clock_seconds(
            started_at=started,
            now=started + timedelta(hours=10),
            held_seconds=0,
            on_hold_since=started + timedelta(hours=8),
        )
        == 8 * 3600
    )
