"""GrantGuard's pure parts: the SSE decoder, what the feed says of grants, cutting answers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdo_broker_client.guard.checks import Refused, TokenChecker
from cdo_broker_client.guard.filtering import OutsideJurisdiction, filter_answer
from cdo_broker_client.guard.keys import KeyCache
from cdo_broker_client.guard.sse import SSEDecoder
from cdo_broker_client.guard.states import GrantStates


def _events(text: str) -> list[tuple[str, str, str | None]]:
    decoder = SSEDecoder()
    decoded = (decoder.decode(line) for line in text.split("\n"))
    return [(e.event, e.data, e.id) for e in decoded if e is not None]


def test_sse_decoding_follows_the_standard() -> None:
    stream = (
        "retry: 1500\n\n"
        ": a comment\n"
        'id: 7-1\nevent: grant.revoked\ndata: {"a":\ndata: 1}\n'
        " ignored: a field name that starts with a space\n\n"
        "event: heartbeat\ndata: {}\n\n"  # no id: the last one stays
        "data:no space\n\n"
        "id\nevent: x\ndata: y\n\n"  # an empty id resets it
    )
    assert _events(stream) == [
        ("grant.revoked", '{"a":\n1}', "7-1"),
        ("heartbeat", "{}", "7-1"),
        ("message", "no space", "7-1"),
        ("x", "y", ""),
    ]


def _change(grant: str, status: str, ends: str = "2999-01-01T00:00:00+00:00") -> dict[str, Any]:
    return {"grant_id": grant, "status": status, "ends_at": ends}


def test_states_keep_only_grants_not_in_force() -> None:
    states = GrantStates()
    states.apply(_change("g1", "paused"))
    states.apply(_change("g2", "revoked"))
    assert (states.refusal("g1"), states.refusal("g2"), states.refusal("g3")) == (
        "paused",
        "revoked",
        None,
    )
    states.apply(_change("g1", "active"))  # resumed
    assert states.refusal("g1") is None
    states.apply(_change("g4", "expired", "2000-01-01T00:00:00+00:00"))
    states.forget_ended(now=1e9)  # 2001: g4 ended, no token of it verifies any more
    assert len(states) == 1
    snapshot = GrantStates()
    snapshot.apply(_change("g5", "paused"))
    states.replace(snapshot)
    assert (states.refusal("g2"), states.refusal("g5")) == (None, "paused")


RECORDS = [
    {"name": "甲", "id_number": "1", "division_code": "440106"},
    {"name": "乙", "id_number": "2", "division_code": "440304"},
    {"name": "丙", "id_number": "3"},
]


def test_answers_keep_only_granted_fields() -> None:
    assert filter_answer(RECORDS, {"name"}) == [{"name": "甲"}, {"name": "乙"}, {"name": "丙"}]
    page = {"items": RECORDS[:1], "next_cursor": "abc"}
    assert filter_answer(page, {"name"}, records_key="items") == {
        "items": [{"name": "甲"}],
        "next_cursor": "abc",
    }
    assert filter_answer(RECORDS[0], {"id_number"}) == {"id_number": "1"}
    assert filter_answer([1, "x", RECORDS[0]], {"name"}) == [{"name": "甲"}]  # not records: gone


def test_a_return_keeps_only_records_inside_its_jurisdiction() -> None:
    cut = filter_answer(
        RECORDS, {"name"}, jurisdiction="440100", jurisdiction_field="division_code"
    )
    assert cut == [{"name": "甲"}]  # Guangzhou's; Shenzhen's and the one without a code go
    with pytest.raises(OutsideJurisdiction):
        filter_answer(
            RECORDS[1], {"name"}, jurisdiction="440100", jurisdiction_field="division_code"
        )


@given(
    st.lists(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.integers()), max_size=5),
    st.sets(st.sampled_from(["a", "b", "c", "d"])),
)
def test_no_ungranted_field_ever_passes(records: list[dict[str, int]], fields: set[str]) -> None:
    for record in filter_answer(records, fields):
        assert set(record) <= fields


async def test_an_unknown_grant_state_is_refused_not_served() -> None:
    checker = TokenChecker(
        KeyCache(None, "http://unused"),  # type: ignore[arg-type]
        GrantStates(),
        issuer="http://broker",
        audience="http://broker",
        state_known=lambda: False,
    )
    claims = {"authorization_details": [{"type": "data_grant", "grant_id": "g", "dataset_id": "d"}]}
    with pytest.raises(Refused) as refused:
        checker.granted(claims, "d")
    assert (refused.value.status, refused.value.slug) == (503, "grant-state-unknown")
    with pytest.raises(Refused) as other:
        checker.granted(claims, "another")
    assert (other.value.status, other.value.slug) == (403, "not-granted")
