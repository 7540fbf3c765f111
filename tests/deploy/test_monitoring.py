"""deploy/k8s/monitoring: the alert rules pass `promtool test rules` (tests/deploy/prometheus),
every alert has a test where it fires, and the rules and the Grafana dashboard query only series
the services document (docs/OPERATIONS.md, "Metrics"), in PromQL that Prometheus parses.

promtool comes with Debian's `prometheus` package, which deploy/local/test installs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "k8s" / "monitoring"
RULES = MONITORING / "alerts.yaml"
DASHBOARD = MONITORING / "dashboard.json"
RULE_TESTS = Path(__file__).parent / "prometheus" / "alerts_test.yaml"
# The calendar's alert looks at months: its tests evaluate hourly, in a file of their own.
CALENDAR_RULE_TESTS = RULE_TESTS.with_name("calendar_alerts_test.yaml")
OPERATIONS = ROOT / "docs" / "OPERATIONS.md"


def promtool(*args: str, cwd: Path = ROOT) -> str:
    tool = shutil.which("promtool")
    assert tool, "promtool is missing: deploy/local/test installs it (Debian package prometheus)"
    done = subprocess.run(
        [tool, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_queries() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


def documented_series() -> set[str]:
    """The names in the first column of the metrics table of docs/OPERATIONS.md."""
    return set(re.findall(r"^\| `(cdo_\w+)[{`]", OPERATIONS.read_text(), re.M))


def series_in(query: str) -> set[str]:
    names = set(re.findall(r"\b(cdo_\w+)", query))
    return {re.sub(r"_(bucket|sum|count)$", "", name) for name in names}


def test_the_alert_rules_are_valid_and_pass_their_unit_tests() -> None:
    assert "SUCCESS: 10 rules found" in promtool("check", "rules", str(RULES))
    for tests in (RULE_TESTS, CALENDAR_RULE_TESTS):
        assert "SUCCESS" in promtool("test", "rules", tests.name, cwd=tests.parent)


def test_every_alert_is_seen_firing_in_a_test() -> None:
    tests = [
        test
        for path in (RULE_TESTS, CALENDAR_RULE_TESTS)
        for test in yaml.safe_load(path.read_text())["tests"]
    ]
    fired = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"]
    }
    assert fired == {rule["alert"] for rule in alert_rules()}


def test_every_alert_says_how_bad_and_what_to_do() -> None:
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert {"summary", "description"} <= rule["annotations"].keys(), rule["alert"]


@pytest.mark.parametrize("source", ["alerts", "dashboard"])
def test_queries_use_only_documented_series(source: str) -> None:
    queries = [r["expr"] for r in alert_rules()] if source == "alerts" else dashboard_queries()
    used = set().union(*(series_in(query) for query in queries))
    documented = documented_series()
    assert len(documented) >= 10, "the metrics table of docs/OPERATIONS.md was not found"
    assert used, f"no cdo_* series in the {source}"
    assert used <= documented, f"not in docs/OPERATIONS.md: {sorted(used - documented)}"


def test_the_dashboard_queries_parse(tmp_path: Path) -> None:
    """Each query as a recording rule: `promtool check rules` parses its PromQL. Grafana's
    `$__rate_interval` becomes a plain range."""
    queries = [query.replace("$__rate_interval", "5m") for query in dashboard_queries()]
    rules = [{"record": f"dashboard:query_{n}", "expr": q} for n, q in enumerate(queries)]
    checked = tmp_path / "dashboard-queries.yaml"
    checked.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    assert f"SUCCESS: {len(rules)} rules found" in promtool("check", "rules", str(checked))


def test_the_dashboard_reads_from_a_chosen_prometheus() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    [variable] = dashboard["templating"]["list"]
    assert (variable["type"], variable["query"]) == ("datasource", "prometheus")
    panels = [panel for panel in dashboard["panels"] if panel.get("targets")]
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
