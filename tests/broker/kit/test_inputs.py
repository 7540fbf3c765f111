"""A body's unknown member is refused by name, also where a body adds its own configuration."""

from __future__ import annotations

import pytest
from pydantic import ConfigDict, Field, ValidationError

from broker.kit.inputs import Input


class ReasonIn(Input):
    reason: str


class AliasedIn(Input):
    model_config = ConfigDict(validate_by_name=True)

    first_id: str = Field(alias="from")


def test_an_unknown_member_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError) as refused:
        ReasonIn.model_validate({"reason": "why", "comment": "misspelt"})
    [error] = refused.value.errors()
    assert (error["type"], error["loc"]) == ("extra_forbidden", ("comment",))


def test_a_body_with_its_own_configuration_still_refuses_unknown_members() -> None:
    assert AliasedIn.model_validate({"first_id": "a"}).first_id == "a"
    with pytest.raises(ValidationError) as refused:
        AliasedIn.model_validate({"from": "a", "to": "b"})
    assert [e["type"] for e in refused.value.errors()] == ["extra_forbidden"]


def test_known_members_pass() -> None:
    assert ReasonIn.model_validate({"reason": "why"}).reason == "why"
