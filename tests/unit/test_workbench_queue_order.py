"""The review queue's order, filters and countdown (api/workbench/queue.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from api.workbench.queue import QueueFilter, QueueItem, item_from, order, review_query, time_left
from workflows.messages import CaseStatusView

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def item(case_id: str, *, escalated: bool = False, due_h: float | None = 10, kind="initial"):
    return QueueItem(
        case_id=case_id,
        request_id=case_id.removeprefix("pa-"),
        kind=kind,
        status="in_review",
        escalated=escalated,
        due=None if due_h is None else NOW + timedelta(hours=due_h),
        line_of_business="commercial",
        urgency="standard",
    )


def test_escalated_cases_come_first_even_when_others_are_due_sooner():
    sooner = item("pa-A", due_h=2)
    escalated_later = item("pa-B", escalated=True, due_h=20)
    assert [i.case_id for i in order([sooner, escalated_later])] == ["pa-B", "pa-A"]


def test_within_each_group_the_least_time_left_comes_first_and_no_clock_last():
    items = [
        item("pa-late", due_h=50),
        item("pa-none", due_h=None),
        item("pa-overdue", due_h=-3),
        item("pa-soon", due_h=1),
        item("pa-esc-late", escalated=True, due_h=9),
        item("pa-esc-soon", escalated=True, due_h=4),
    ]
    assert [i.case_id for i in order(items)] == [
        "pa-esc-soon",
        "pa-esc-late",
        "pa-overdue",
        "pa-soon",
        "pa-late",
        "pa-none",
    ]


def test_equal_clocks_are_ordered_by_case_id():
    assert [i.case_id for i in order([item("pa-b"), item("pa-a")])] == ["pa-a", "pa-b"]


def test_filters_admit_by_kind_and_by_escalation():
    appeal = item("pa-1", kind="appeal", escalated=True)
    renewal = item("pa-2", kind="renewal")
    assert QueueFilter(kind="appeal").admits(appeal)
    assert not QueueFilter(kind="appeal").admits(renewal)
    assert QueueFilter(escalated="yes").admits(appeal)
    assert not QueueFilter(escalated="yes").admits(renewal)
    assert QueueFilter(escalated="no").admits(renewal)
    assert QueueFilter().admits(appeal) and QueueFilter().admits(renewal)


@pytest.mark.parametrize(
    "params",
    [{"kind": "everything"}, {"escalated": "true"}, {"status": "denied"}],
)
def test_a_filter_outside_the_listed_values_is_refused(params):
    with pytest.raises(ValidationError):
        QueueFilter.model_validate(params)


def test_the_countdown_says_the_time_left_or_how_long_overdue():
    assert time_left(NOW + timedelta(hours=5, minutes=12), NOW) == "5 h 12 min left"
    assert time_left(NOW + timedelta(days=2, hours=23, minutes=59), NOW) == "2 d 23 h 59 min left"
    assert time_left(NOW - timedelta(hours=2, minutes=3), NOW) == "overdue by 2 h 3 min"
    assert time_left(NOW + timedelta(seconds=30), NOW) == "0 min left"
    assert time_left(None, NOW) == "no clock"


def _view(**changes) -> CaseStatusView:
    fields = {
        "case_id": "pa-R1",
        "request_id": "R1",
        "status": "in_review",
        "line_of_business": "medicaid",
        "urgency": "expedited",
        "review_kind": "initial",
        "review_due": NOW,
        "escalated": True,
    }
    return CaseStatusView(**{**fields, **changes})


def test_an_appeal_recommends_the_denial_under_appeal_and_names_who_may_not_decide_it():
    got = item_from(_view(review_kind="appeal"), "review", "rph-ana")
    assert (got.kind, got.recommendation, got.excluded_reviewer) == ("appeal", "deny", "rph-ana")


def test_an_initial_review_shows_the_engines_recommendation_and_excludes_nobody():
    got = item_from(_view(), "deny", "rph-ana")
    assert (got.recommendation, got.excluded_reviewer) == ("deny", None)
    assert (got.line_of_business, got.urgency, got.escalated) == ("medicaid", "expedited", True)


def test_a_pend_whose_deadline_ran_out_is_an_initial_review_recommending_pend():
    # workflows/deadlines.py: the pend deadline opens an initial review, recommendation pend.
    got = item_from(_view(escalated=False, missing_facts=["diagnosis.mrd_percent"]), "pend", None)
    assert (got.kind, got.recommendation) == ("initial", "pend")


def test_the_visibility_query_is_fixed_text_for_running_cases_in_review():
    query = review_query()
    assert query == (
        'WorkflowType = "AuthorizationWorkflow" AND ExecutionStatus = "Running" AND '
        '(AuthStatus = "in_review" OR AuthStatus = "appealed")'
    )
