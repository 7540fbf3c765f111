"""schemathesis against the broker's own OpenAPI document, over HTTP, with real tokens.

Every operation gets generated cases (the document's examples, boundary and negative cases,
then random ones), each sent by one of several callers (`CALLERS`), so that both the authorised
paths and the refusals are exercised. Every answer must be no 5xx and match the document: a
documented status code, its content type and its body schema.

FUZZ_CASES is how many random cases the run adds across all operations (the default makes about
2,000 cases in all; docs/FUZZING.md has the command for a longer run), FUZZ_SEED the seed.
"""

from __future__ import annotations

import math
import os
import time
import zlib
from collections import Counter
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from broker.openapi import openapi_document
from testing.fuzzing import CALLERS, EVERY_SCOPE, TALLY, FuzzTarget

pytestmark = pytest.mark.integration

FUZZ_CASES = int(os.environ.get("FUZZ_CASES", "600"))
FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "20261127"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

DOCUMENT = openapi_document()  # what /openapi.json serves (tests/test_schemas_current.py)
OPERATIONS = sum(len(operations) for operations in DOCUMENT["paths"].values())
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "seed": FUZZ_SEED,
            "generation": {"max-examples": math.ceil(FUZZ_CASES / OPERATIONS)},
            "phases": {"stateful": {"enabled": False}},
        }
    ),
    # An event stream answers until the caller's token expires, so a case would never end; its
    # bad input and its authorisation are tested in tests/broker/grants/test_change_feed.py and
    # the authorisation matrix.
).exclude(path="/v1/grants/changes")


class Tally:
    """What the run sent and got back, for the summary line."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.statuses: Counter[int] = Counter()
        self.operations: set[str] = set()

    def summary(self) -> str:
        seconds = time.monotonic() - self.started
        total = sum(self.statuses.values())
        by_class = Counter(f"{status // 100}xx" for status in self.statuses.elements())
        return (
            f"fuzz: {total} cases over {len(self.operations)} operations in {seconds:.0f} s "
            f"({total / seconds:.0f}/s), seed {FUZZ_SEED}; {dict(sorted(by_class.items()))}; "
            f"statuses {dict(sorted(self.statuses.items()))}"
        )


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Tally:
    """Printed at the end of the run by `pytest_terminal_summary` (tests/fuzz/conftest.py)."""
    counts = Tally()
    request.config.stash[TALLY] = counts.summary
    return counts


# The callers with every scope twice: most cases should get past authentication.
ROTA = [
    name
    for name, caller in CALLERS.items()
    for _ in range(2 if isinstance(caller, tuple) and caller[1] == EVERY_SCOPE else 1)
]


def caller_of(case: schemathesis.Case) -> str:
    """Who sends a case: picked by the case's content, so that replaying a failing case (as
    Hypothesis does to shrink it) sends it as the same caller."""
    content = (case.method, case.path, case.path_parameters, case.query, case.headers, case.body)
    return ROTA[zlib.crc32(repr(content).encode()) % len(ROTA)]


@pytest.fixture(scope="module")
def http_session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.mark.timeout(max(120, FUZZ_CASES // 10))  # per operation
@schema.parametrize()
@settings(
    deadline=None,
    database=None,  # no .hypothesis/ folder; a failure prints its case and a curl command
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_answer_matches_the_document(
    case: schemathesis.Case,
    fuzz_target: FuzzTarget,
    http_session: requests.Session,
    tally: Tally,
) -> None:
    caller = caller_of(case)
    response = case.call(
        base_url=fuzz_target.base_url,
        session=http_session,
        headers=fuzz_target.headers[caller],
        timeout=30,
    )
    tally.statuses[response.status_code] += 1
    tally.operations.add(case.operation.label)
    case.validate_response(response, checks=CHECKS, headers=fuzz_target.headers[caller])
