"""The policy loader: the default loads; a bad policy is refused, naming the bad value's path."""

from __future__ import annotations

import copy
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from broker.routing.plan import ROLE_RESOLVERS
from broker.routing.policy import (
    DEFAULT_POLICY_FILE,
    SCHEMA_FILE,
    Facts,
    PolicyError,
    load_policy,
    parse_policy,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
PUBLIC_SCHEMA = REPO_ROOT / "schemas" / "routing-policy.schema.json"

VALID: dict[str, Any] = {
    "version": 1,
    "escalation": ["department", "government", "data_bureau"],
    "reminder_before_seconds": 3600,
    "rules": [
        {
            "name": "conditional",
            "when": {"sharing_class": "conditional"},
            "steps": [{"approvers": ["provider_department"], "sla_seconds": 60}],
        },
        {"name": "otherwise", "when": {}, "outcome": "approve"},
    ],
}


def _with(change: dict[str, Any]) -> dict[str, Any]:
    """VALID with the first rule's keys replaced by `change` (None removes a key)."""
    data = copy.deepcopy(VALID)
    rule = data["rules"][0]
    for key, value in change.items():
        if value is None:
            rule.pop(key)
        else:
            rule[key] = value
    return data


def _refused(data: object) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        parse_policy(data)
    return caught.value


def test_the_default_policy_loads() -> None:
    policy = load_policy()
    assert policy.version == 1
    assert policy.escalation == ("department", "government", "data_bureau")
    assert policy.reminder_before_seconds == 14400
    assert [rule.name for rule in policy.rules] == [
        "demand",
        "it-project",
        "unconditional",
        "not-shareable-without-legal-basis",
        "not-shareable-with-legal-basis",
        "conditional-cross-level-or-return",
        "conditional",
    ]
    assert load_policy(DEFAULT_POLICY_FILE) == policy
    assert [s.roles for s in policy.grades["important"].steps] == [("provider_government",)]
    assert [s.roles for s in policy.grades["core"].steps] == [
        ("provider_government",),
        ("provincial_data_bureau",),
    ]
    assert policy.grades["core"].legal_basis_required
    assert "general" not in policy.grades  # general data adds nothing
    limits = {(r.name, s.sla_working_days) for r in policy.rules for s in r.steps}
    assert limits == {
        ("demand", 3),
        ("demand", 5),
        ("it-project", 5),
        ("not-shareable-with-legal-basis", 3),
        ("conditional-cross-level-or-return", 2),
        ("conditional-cross-level-or-return", 3),
        ("conditional", 3),
    }


def test_a_limit_in_working_days_keeps_its_nominal_seconds_for_v1_clients() -> None:
    data = _with({"steps": [{"approvers": ["provider_department"], "sla_working_days": 2}]})
    (step,) = parse_policy(data).rules[0].steps
    assert (step.sla_working_days, step.sla_seconds) == (2, 2 * 86400)


def test_a_policy_in_elapsed_seconds_still_loads_and_is_called_deprecated(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = tmp_path / "policy.yaml"
    old.write_text(yaml.safe_dump(VALID), encoding="utf-8")
    (step,) = load_policy(old).rules[0].steps
    assert (step.sla_working_days, step.sla_seconds) == (None, 60)
    assert "rules conditional give sla_seconds" in caplog.text
    assert "deprecated" in caplog.text


def test_a_minimal_policy_parses_and_required_defaults_to_all() -> None:
    data = _with({"steps": [{"approvers": ["provider_department", "provider_government"]}]})
    data["rules"][0]["steps"][0]["sla_seconds"] = 60
    (step,) = parse_policy(data).rules[0].steps
    assert step.required == 2


def test_the_public_schema_is_the_packaged_one() -> None:
    packaged = SCHEMA_FILE.relative_to(REPO_ROOT)
    assert PUBLIC_SCHEMA.read_text(encoding="utf-8") == SCHEMA_FILE.read_text(encoding="utf-8"), (
        f"refresh it: cp {packaged} {PUBLIC_SCHEMA.relative_to(REPO_ROOT)}"
    )


def test_the_schema_is_valid_draft_2020_12() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_the_schema_speaks_the_planners_vocabulary() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert set(schema["$defs"]["role"]["enum"]) == set(ROLE_RESOLVERS)
    condition_keys = set(schema["$defs"]["condition"]["properties"])
    assert condition_keys == {f.name for f in fields(Facts)} | {"any_of", "all_of"}


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (
            {"steps": [{"approvers": ["provider_ministry"], "sla_seconds": 60}]},
            "$.rules[0].steps[0].approvers[0]",
            "'provider_ministry' is not one of",
        ),
        (
            {"steps": [{"approvers": ["provider_department"], "required": 2, "sla_seconds": 60}]},
            "$.rules[0].steps[0].required",
            "2 exceeds the 1 approvers listed",
        ),
        (
            {"steps": [{"approvers": ["provider_department"]}]},
            "$.rules[0].steps[0]",
            "'sla_working_days' is a required property",
        ),
        (
            {
                "steps": [
                    {"approvers": ["provider_department"], "sla_seconds": 60, "sla_working_days": 2}
                ]
            },
            "$.rules[0].steps[0].sla_working_days",
            "give sla_working_days or sla_seconds, not both",
        ),
        (
            {"steps": [{"approvers": ["provider_department"], "sla_working_days": 0}]},
            "$.rules[0].steps[0].sla_working_days",
            "less than the minimum of 1",
        ),
        (
            {"steps": [{"approvers": ["provider_department"], "sla_seconds": 0}]},
            "$.rules[0].steps[0].sla_seconds",
            "less than the minimum of 1",
        ),
        (
            {"when": {"sharing_class": "conditional", "colour": "red"}},
            "$.rules[0].when",
            "'colour' was unexpected",
        ),
        (
            {"when": {"any_of": [{"cross_level": "yes"}]}},
            "$.rules[0].when.any_of[0].cross_level",
            "'yes' is not of type 'boolean'",
        ),
        ({"outcome": "refuse"}, "$.rules[0]", "'reason' is a required property"),
        ({"outcome": "approve"}, "$.rules[0].steps", "not allowed here: a rule that approves"),
        ({"outcome": "refuse", "reason": "no"}, "$.rules[0].steps", "a refusing rule has no"),
        ({"reason": "why"}, "$.rules[0].reason", "only a refusing rule gives a reason"),
        ({"steps": None}, "$.rules[0]", "'steps' is a required property"),
        ({"name": "otherwise"}, "$.rules[1].name", "'otherwise' names an earlier rule too"),
    ],
)
def test_an_invalid_policy_is_refused_naming_the_path(
    change: dict[str, Any], path: str, words: str
) -> None:
    error = _refused(_with(change))
    assert any(p == path and words in message for p, message in error.problems), error.problems
    assert f"{path}: " in str(error)


def test_a_grades_step_asking_more_approvals_than_approvers_is_refused_naming_the_path() -> None:
    data = copy.deepcopy(VALID)
    step = {"approvers": ["provider_government"], "required": 2, "sla_working_days": 3}
    data["grades"] = {"important": {"steps": [step]}}
    error = _refused(data)
    assert error.problems == (
        ("$.grades.important.steps[0].required", "2 exceeds the 1 approvers listed"),
    )


def test_every_problem_is_reported_sorted_by_path() -> None:
    data = copy.deepcopy(VALID)
    data["version"] = 2
    data["rules"][0]["steps"][0]["approvers"] = []
    error = _refused(data)
    assert [path for path, _ in error.problems] == ["$.rules[0].steps[0].approvers", "$.version"]
    assert error.path == "$.rules[0].steps[0].approvers"


def test_a_policy_some_request_escapes_is_refused() -> None:
    data = copy.deepcopy(VALID)
    del data["rules"][1]  # only conditional requests match now
    error = _refused(data)
    assert error.path == "$.rules"
    assert "no rule matches" in str(error)
    assert "catch-all" in str(error)


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    assert _refused(["rules"]).path == "$"


def test_a_policy_file_is_named_in_the_error(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text(yaml.safe_dump(_with({"when": {"colour": "red"}})), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"policy\.yaml:\n  \$\.rules\[0\]\.when: "):
        load_policy(bad)


def test_a_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("rules: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid YAML") as caught:
        load_policy(bad)
    assert caught.value.path == "$"


def test_a_custom_policy_file_loads(tmp_path: Path) -> None:
    good = tmp_path / "policy.yaml"
    good.write_text(yaml.safe_dump(VALID), encoding="utf-8")
    assert [rule.name for rule in load_policy(good).rules] == ["conditional", "otherwise"]
