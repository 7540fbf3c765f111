"""Who is told of what: the mapping from broker events to webhook notifications."""

from __future__ import annotations

from notifier.recipients import notifications, webhook_id
from testing.events import problem_event

TIME = "2026-11-27T08:00:00Z"


def test_an_approval_task_goes_to_its_approver() -> None:
    [one] = notifications(
        "ev1", "cn.gov.gd.cdo.approval.requested", TIME,
        {"approver_id": "gz-gaj", "request_id": "req_1", "escalated_from": None},
    )  # fmt: skip
    assert (one.organisation_id, one.type, one.request_id) == (
        "gz-gaj",
        "approval.requested",
        "req_1",
    )
    assert one.body == {
        "type": "approval.requested",
        "timestamp": TIME,
        "data": {"approver_id": "gz-gaj", "request_id": "req_1", "escalated_from": None},
    }


def test_an_escalation_tells_the_new_approver_and_the_one_who_let_it_lapse() -> None:
    found = notifications(
        "ev2", "cn.gov.gd.cdo.approval.escalated", TIME,
        {"approver_id": "gz-gov", "escalated_from": "gz-gaj", "request_id": "req_1"},
    )  # fmt: skip
    assert [(n.organisation_id, n.type) for n in found] == [
        ("gz-gov", "approval.escalated"),
        ("gz-gaj", "approval.escalated"),
    ]


def test_the_requester_hears_the_outcome_and_grants_reach_both_sides() -> None:
    for name in ["approved", "rejected", "cancelled", "expired", "vetoed"]:
        [decided] = notifications(
            "ev3", f"cn.gov.gd.cdo.request.{name}", TIME, {"requester_id": "gz-rsj"}
        )
        assert (decided.organisation_id, decided.type) == ("gz-rsj", "request.decided")
    issued = notifications(
        "ev4", "cn.gov.gd.cdo.grant.issued", TIME, {"grantee_id": "gz-rsj", "provider_id": "gz-gaj"}
    )
    assert [(n.organisation_id, n.type) for n in issued] == [
        ("gz-rsj", "grant.issued"),
        ("gz-gaj", "grant.issued"),
    ]


def test_intermediate_events_notify_nobody() -> None:
    for name in ["submitted", "routed", "step_decided", "escalated"]:
        assert notifications("ev5", f"cn.gov.gd.cdo.request.{name}", TIME, {}) == []


def test_webhook_ids_are_stable_per_event_recipient_and_type() -> None:
    assert webhook_id("ev1", "gz-gaj", "approval.requested") == webhook_id(
        "ev1", "gz-gaj", "approval.requested"
    )
    assert webhook_id("ev1", "gz-gaj", "approval.requested") != webhook_id(
        "ev1", "gz-gov", "approval.requested"
    )


def test_a_reminder_goes_to_the_approver() -> None:
    [one] = notifications(
        "ev6", "cn.gov.gd.cdo.approval.reminder", TIME, {"approver_id": "gz-gov", "request_id": "r"}
    )
    assert (one.organisation_id, one.type) == ("gz-gov", "approval.reminder")


def test_a_delegate_hears_of_the_tasks_it_may_decide() -> None:
    found = notifications(
        "ev7", "cn.gov.gd.cdo.approval.requested", TIME,
        {"approver_id": "gz-gaj", "delegate_ids": ["gz-dsb"], "request_id": "r"},
    )  # fmt: skip
    assert [(n.organisation_id, n.type) for n in found] == [
        ("gz-gaj", "approval.requested"),
        ("gz-dsb", "approval.requested"),
    ]


def test_a_problem_report_goes_to_the_bureau_and_the_bodies_named_its_answer_to_the_reporter() -> (
    None
):
    reported = notifications("ev9", "cn.gov.gd.cdo.problem.reported", TIME, problem_event())
    assert [(n.organisation_id, n.type) for n in reported] == [
        ("gd-dsb", "problem.reported"),
        ("gz-rsj", "problem.reported"),
    ]
    answered = notifications(
        "ev10", "cn.gov.gd.cdo.problem.answered", TIME, problem_event("answered")
    )
    assert [(n.organisation_id, n.type) for n in answered] == [
        ("gz-gaj", "problem.answered"),
        ("gz-rsj", "problem.answered"),
    ]
    assert answered[0].request_id is None
    assert answered[0].body["data"]["resolution"] == "已督促答复"


def test_an_appeal_goes_to_its_coordinator_and_its_outcome_to_requester_and_provider() -> None:
    [task] = notifications(
        "ev11", "cn.gov.gd.cdo.approval.appeal_requested", TIME,
        {"approver_id": "gd-gov", "request_id": "req_1", "escalated_from": None},
    )  # fmt: skip
    assert (task.organisation_id, task.type) == ("gd-gov", "appeal.requested")
    climbed = notifications(
        "ev12", "cn.gov.gd.cdo.approval.appeal_escalated", TIME,
        {"approver_id": "gd-dsb", "request_id": "req_1", "escalated_from": "gd-gov"},
    )  # fmt: skip
    assert [(n.organisation_id, n.type) for n in climbed] == [
        ("gd-dsb", "appeal.escalated"),
        ("gd-gov", "appeal.escalated"),
    ]
    decided = notifications(
        "ev13", "cn.gov.gd.cdo.request.appeal_decided", TIME,
        {"requester_id": "gz-rsj", "provider_id": "gd-gat", "request_id": "req_1"},
    )  # fmt: skip
    assert [(n.organisation_id, n.type) for n in decided] == [
        ("gz-rsj", "appeal.decided"),
        ("gd-gat", "appeal.decided"),
    ]
