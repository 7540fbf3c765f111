"""Jurisdiction over random directories, and the seed's cases the issue names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.directory.jurisdiction import covers, covers_new_body
from broker.routing.model import DirectoryView
from testing.directories import DIRECTORY, FAST, PROVINCIAL_BUREAU, directories


def _chain(directory: DirectoryView, body: str) -> list[str]:
    return list(directory.governments_up(body))


@FAST
@given(directories())
def test_every_body_is_in_its_own_jurisdiction(directory: DirectoryView) -> None:
    for body in directory.organisations:
        assert covers(directory, body, body)


@FAST
@given(directories())
def test_the_provincial_bureau_covers_the_whole_province(directory: DirectoryView) -> None:
    for body in directory.organisations:
        assert covers(directory, PROVINCIAL_BUREAU, body)


@FAST
@given(directories())
def test_a_body_that_is_no_bureau_covers_only_itself(directory: DirectoryView) -> None:
    for caller in directory.organisations.values():
        if caller.kind == "data_bureau":
            continue
        for body in directory.organisations:
            assert covers(directory, caller.id, body) == (body == caller.id)
            assert not covers_new_body(directory, caller.id, placed_under=body)


@FAST
@given(directories())
def test_a_bureau_covers_exactly_the_bodies_at_or_below_its_government(
    directory: DirectoryView,
) -> None:
    for caller in directory.organisations.values():
        if caller.kind != "data_bureau":
            continue
        for body in directory.organisations:
            below = caller.government_id in _chain(directory, body)
            assert covers(directory, caller.id, body) == below, (caller.id, body)
            assert covers_new_body(directory, caller.id, placed_under=body) == below


@FAST
@given(directories(), st.data())
def test_a_bureau_above_covers_all_a_bureau_below_covers(
    directory: DirectoryView, data: st.DataObject
) -> None:
    bureaus = sorted(o.id for o in directory.organisations.values() if o.kind == "data_bureau")
    lower = data.draw(st.sampled_from(bureaus))
    for upper in bureaus:
        if covers(directory, upper, lower):
            for body in directory.organisations:
                if covers(directory, lower, body):
                    assert covers(directory, upper, body), (upper, lower, body)


@FAST
@given(directories())
def test_nothing_is_added_above_the_province(directory: DirectoryView) -> None:
    for caller in directory.organisations:
        assert not covers_new_body(directory, caller, placed_under=None)


@pytest.mark.parametrize(
    ("caller", "body", "inside"),
    [
        ("gz-dsb", "gz-gov", True),  # its own government
        ("gz-dsb", "gz-gaj", True),  # a department of it
        ("gz-dsb", "gz-th-gov", True),  # a county below it
        ("gz-dsb", "gz-th-gaj", True),  # and the county's departments
        ("gz-dsb", "gz-dsb", True),
        ("gz-dsb", "gd-gat", False),  # the province's department: above it
        ("gz-dsb", "gd-gov", False),  # the provincial government
        ("gz-dsb", "gd-dsb", False),
        ("gz-dsb", "st-gaj", False),  # another city
        ("gd-dsb", "gz-th-gaj", True),  # the provincial bureau: everything
        ("gz-gaj", "gz-rsj", False),  # a department administers nobody else
        ("gz-gov", "gz-gaj", False),  # nor does a government
    ],
)
def test_the_seeds_cases(caller: str, body: str, inside: bool) -> None:
    assert covers(DIRECTORY, caller, body) == inside


def test_an_unknown_body_is_in_nobodys_jurisdiction() -> None:
    assert not covers(DIRECTORY, "gd-dsb", "nowhere")
    assert not covers_new_body(DIRECTORY, "gd-dsb", placed_under="nowhere")
