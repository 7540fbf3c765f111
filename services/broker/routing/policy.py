"""The routing policy: data that says which CDO(s) decide a request, and its loader.

Format (see `default_policy.yaml` for the default, DOMAIN rules 1-5):

- `rules` are tried in order and the first whose `when` holds decides. A rule either approves at
  once (`outcome: approve`), refuses (`outcome: refuse` with a `reason`), or routes through `steps`
  (`outcome: route`, the default when omitted).
- `when` tests facts of the request (`sharing_class`, `kind`, `legal_basis`, `cross_level`,
  `cross_department`); every key given must hold, `any_of` / `all_of` nest conditions, and `{}`
  always holds (a catch-all).
- A step names `approvers` by role (`provider_department` is the dataset's owner, whatever its kind)
  and takes `required: N` of them. **Without `required`, all of them must approve**: leaving the
  key out never silently weakens a step; a quorum is always written down.
- A step's time limit is `sla_working_days` (due at the close of the Nth working day after the
  step starts: broker/calendar). `sla_seconds`, elapsed seconds whatever the day, is what
  policies said before working days; it still loads (the loader logs that it is deprecated) and
  serves drills and tests whose steps must lapse within seconds.
- `grades` says what a dataset's grade (the Data Security Law's 一般/重要/核心) adds to the rule
  that matched: `steps` appended to its route (a rule that approves at once then routes through
  them alone), and `legal_basis_required` with a `reason` (a request without one is refused).
  A grade the section leaves out adds nothing; the default policy adds the provider government's
  CDO for important data, and for core data asks a legal basis and adds the provincial bureau.
- Demands (`kind: demand`) and IT projects (`kind: it_project`) name no dataset: their facts
  have no sharing class and no grade, so only a rule on `kind` (or a catch-all) matches them.
- The loader also refuses a policy in which some possible request matches no rule, so
  `plan_route` always finds one.

Where the schema lives: `policy.schema.json` next to this module is the one the loader validates
against (package data, so an installed broker finds it without the repository); the repository's
`schemas/routing-policy.schema.json` is the public copy, and a test fails when the two differ.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from jsonschema import Draft202012Validator, ValidationError

from broker.routing.model import DATASET_KINDS, GRADES, REQUEST_KINDS, SHARING_CLASSES

SCHEMA_FILE = Path(__file__).with_name("policy.schema.json")
DEFAULT_POLICY_FILE = Path(__file__).with_name("default_policy.yaml")

logger = logging.getLogger(__name__)
Outcome = Literal["approve", "route", "refuse"]
DAY_SECONDS = 86400


class PolicyError(ValueError):
    """An invalid policy; `problems` holds (path, message) pairs, paths like `$.rules[2].when`."""

    def __init__(self, source: str, problems: Iterable[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {path}: {message}" for path, message in self.problems)
        super().__init__(f"invalid routing policy {source}:\n{lines}")

    @property
    def path(self) -> str:
        return self.problems[0][0]


@dataclass(frozen=True)
class Facts:
    """What a rule's `when` can test; field names are the condition keys."""

    sharing_class: str | None  # None: the request names no dataset (a demand, an IT project)
    kind: str
    legal_basis: bool
    cross_level: bool
    cross_department: bool
    grade: str | None = None


@dataclass(frozen=True)
class Condition:
    equals: tuple[tuple[str, str | bool], ...] = ()  # (fact name, wanted value), all must hold
    all_of: tuple[Condition, ...] = ()
    any_of: tuple[Condition, ...] = ()  # empty: no `any_of` given

    def holds(self, facts: Facts) -> bool:
        return (
            all(getattr(facts, name) == wanted for name, wanted in self.equals)
            and all(condition.holds(facts) for condition in self.all_of)
            and (not self.any_of or any(condition.holds(facts) for condition in self.any_of))
        )


@dataclass(frozen=True)
class StepSpec:
    roles: tuple[str, ...]
    required: int
    # Working days (the policy's `sla_working_days`), or None for a limit in elapsed seconds.
    sla_working_days: int | None
    # The limit in elapsed seconds; for a working-day limit its nominal length (N x 86 400),
    # which the API shows as `sla_seconds` (clients of v1 read it) but no deadline uses.
    sla_seconds: int


@dataclass(frozen=True)
class Rule:
    name: str
    when: Condition
    outcome: Outcome
    steps: tuple[StepSpec, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class GradeRule:
    """What a grade adds to whichever rule matched."""

    steps: tuple[StepSpec, ...] = ()
    legal_basis_required: bool = False
    reason: str | None = None  # why a request without a legal basis is refused


@dataclass(frozen=True)
class AppealPolicy:
    """Appeals (申请协调): how long after the decision the requester may appeal, how long the
    coordinator has to decide (both in working days), and the kinds of body the appeal climbs
    through from the body that refused (routing/appeal.py)."""

    deadline_working_days: int = 10
    decision_working_days: int = 5
    chain: tuple[str, ...] = ("department", "government", "data_bureau")
    # (level, chain) by the level of the body that refused; a level not named climbs `chain`.
    levels: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def chain_for(self, level: str) -> tuple[str, ...]:
        """The kinds of body an appeal against a refusal at `level` climbs through."""
        return dict(self.levels).get(level, self.chain)


@dataclass(frozen=True)
class Policy:
    version: int
    escalation: tuple[str, ...]
    reminder_before_seconds: int
    rules: tuple[Rule, ...]
    grades: Mapping[str, GradeRule] = field(default_factory=dict)
    appeal: AppealPolicy = AppealPolicy()

    def grade_rule(self, grade: str | None) -> GradeRule:
        return self.grades.get(grade or "", _NO_GRADE_RULE)

    def rule_for(self, facts: Facts) -> Rule:
        for rule in self.rules:
            if rule.when.holds(facts):
                return rule
        # parse_policy checked every possible Facts, so only a hand-built Policy gets here.
        raise LookupError(f"no routing rule matches {facts}")


_NO_GRADE_RULE = GradeRule()


def load_policy(path: Path | None = None) -> Policy:
    """Read and validate a policy file; the packaged default when `path` is None."""
    source = path or DEFAULT_POLICY_FILE
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PolicyError(str(source), [("$", f"not valid YAML: {exc}")]) from exc
    policy = parse_policy(data, source=str(source))
    elapsed = [r.name for r in policy.rules if any(s.sla_working_days is None for s in r.steps)]
    if elapsed:
        logger.warning(
            "routing policy %s: rules %s give sla_seconds, elapsed time whatever the calendar "
            "(deprecated): their deadlines may fall on weekends and holidays; give "
            "sla_working_days",
            source,
            ", ".join(elapsed),
        )
    return policy


def parse_policy(data: object, *, source: str = "<data>") -> Policy:
    """Validate `data` against the JSON Schema and the checks it cannot express, then build."""
    problems = sorted(_problem(error) for error in _validator().iter_errors(data))
    if problems:
        raise PolicyError(source, problems)
    document = cast(dict[str, Any], data)
    policy = Policy(
        version=document["version"],
        escalation=tuple(document["escalation"]),
        reminder_before_seconds=document["reminder_before_seconds"],
        rules=tuple(_rule(raw) for raw in document["rules"]),
        grades={
            grade: GradeRule(
                steps=_steps(raw.get("steps", ())),
                legal_basis_required=raw.get("legal_basis_required", False),
                reason=raw.get("reason"),
            )
            for grade, raw in document.get("grades", {}).items()
        },
        appeal=_appeal(document.get("appeal", {})),
    )
    problems = list(_semantic_problems(policy))  # what JSON Schema cannot say
    if problems:
        raise PolicyError(source, problems)
    return policy


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def _problem(error: ValidationError) -> tuple[str, str]:
    if error.validator == "not" and error.validator_value == {} and isinstance(error.schema, dict):
        # The schema forbids a key in some context with `{"not": {}}` and says why in its
        # description; jsonschema's own "should not be valid under {}" would not.
        return error.json_path, f"not allowed here: {error.schema.get('description', '')}"
    return error.json_path, error.message


def _appeal(raw: dict[str, Any]) -> AppealPolicy:
    default = AppealPolicy()
    return AppealPolicy(
        deadline_working_days=raw.get("deadline_working_days", default.deadline_working_days),
        decision_working_days=raw.get("decision_working_days", default.decision_working_days),
        chain=tuple(raw.get("chain", default.chain)),
        levels=tuple((level, tuple(chain)) for level, chain in raw.get("levels", {}).items()),
    )


def _rule(raw: dict[str, Any]) -> Rule:
    return Rule(
        name=raw["name"],
        when=_condition(raw["when"]),
        outcome=raw.get("outcome", "route"),
        steps=_steps(raw.get("steps", ())),
        reason=raw.get("reason"),
    )


def _steps(raw: Iterable[dict[str, Any]]) -> tuple[StepSpec, ...]:
    return tuple(
        StepSpec(
            roles=tuple(step["approvers"]),
            required=step.get("required", len(step["approvers"])),
            sla_working_days=step.get("sla_working_days"),
            sla_seconds=step.get("sla_seconds") or step["sla_working_days"] * DAY_SECONDS,
        )
        for step in raw
    )


def _condition(raw: dict[str, Any]) -> Condition:
    return Condition(
        equals=tuple((k, v) for k, v in raw.items() if k not in ("any_of", "all_of")),
        all_of=tuple(_condition(c) for c in raw.get("all_of", ())),
        any_of=tuple(_condition(c) for c in raw.get("any_of", ())),
    )


def _semantic_problems(policy: Policy) -> Iterator[tuple[str, str]]:
    for grade, graded in policy.grades.items():
        yield from _too_many_required(f"$.grades.{grade}", graded.steps)
    seen: set[str] = set()
    for r, rule in enumerate(policy.rules):
        if rule.name in seen:
            yield f"$.rules[{r}].name", f"{rule.name!r} names an earlier rule too"
        seen.add(rule.name)
        yield from _too_many_required(f"$.rules[{r}]", rule.steps)
    for facts in _every_possible_request():
        if not any(rule.when.holds(facts) for rule in policy.rules):
            yield "$.rules", f"no rule matches {facts}; end with a catch-all rule (when: {{}})"
            return  # one example is enough to act on


def _too_many_required(path: str, steps: Iterable[StepSpec]) -> Iterator[tuple[str, str]]:
    for s, step in enumerate(steps):
        if step.required > len(step.roles):
            yield (
                f"{path}.steps[{s}].required",
                f"{step.required} exceeds the {len(step.roles)} approvers listed",
            )


def _every_possible_request() -> Iterator[Facts]:
    for kind, legal_basis, cross_level in product(REQUEST_KINDS, (False, True), (False, True)):
        dataset = kind in DATASET_KINDS
        for sharing_class, grade in product(
            SHARING_CLASSES if dataset else (None,), GRADES if dataset else (None,)
        ):
            # cross_department means "same level, different body", so it is false across levels.
            for cross_department in (False,) if cross_level else (False, True):
                yield Facts(sharing_class, kind, legal_basis, cross_level, cross_department, grade)
