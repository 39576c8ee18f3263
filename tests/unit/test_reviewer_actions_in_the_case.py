"""A reviewer's limited approval, named pend and review clock extension, in the case
aggregate (issues #16, #17; no server)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.case.aggregate import InvalidReview, review_input_problems
from domain.case.effects import Notify, RecordDecision, SearchAttributes
from domain.case.messages import ExtendReviewInput, ReviewDecisionInput
from domain.case.transitions import TRANSITIONS
from domain.facts import fact_path_problem
from tests.unit.case_harness import RECEIVED, in_review


def _rows(case, kind):
    return [e for e in case.effects if isinstance(e, RecordDecision) and e.kind == kind]


def _full_terms():
    case = in_review()
    case.review("approve")
    period = case.s.periods[0]
    return period.start, period.end, period.authorized_units


def test_an_approval_with_a_shorter_period_and_fewer_units_grants_them():
    start, end, units = _full_terms()
    case = in_review()
    result = case.review("approve", period_end=end - timedelta(days=30), authorized_units=units - 7)
    assert result.accepted and case.s.status == "active"
    period = case.s.periods[0]
    assert (period.start, period.end, period.authorized_units) == (
        start,
        end - timedelta(days=30),
        units - 7,
    )
    assert (result.period_end, result.authorized_units) == (period.end, period.authorized_units)
    row = _rows(case, "review")[-1]
    assert row.granted is not None and row.granted.authorized_units == units - 7
    assert row.granted.days == (period.end - start).days + 1
    approval = [e for e in case.effects if isinstance(e, Notify) and e.kind == "approval"][-1]
    assert approval.payload["authorized_units"] == units - 7
    assert approval.payload["period_end"] == period.end.isoformat()


@pytest.mark.parametrize(
    ("change", "field", "section"),
    [
        ({"period_end_days": 1}, "period_end", "Section I"),
        ({"units": 1}, "authorized_units", "Section II"),
    ],
)
def test_more_than_the_policy_allows_is_refused_naming_the_section(change, field, section):
    _start, end, units = _full_terms()
    case = in_review()
    extra = (
        {"period_end": end + timedelta(days=change["period_end_days"])}
        if "period_end_days" in change
        else {"authorized_units": units + change["units"]}
    )
    before = len(case.effects)
    with pytest.raises(InvalidReview) as err:
        case.review("approve", **extra)
    assert [p["field"] for p in err.value.problems] == [field]
    assert section in err.value.problems[0]["message"]
    assert case.s.status == "in_review" and len(case.effects) == before  # nothing changed


def test_a_period_ending_before_it_starts_is_refused():
    start, _end, _units = _full_terms()
    with pytest.raises(InvalidReview):
        in_review().review("approve", period_end=start - timedelta(days=1))


def test_a_pend_asks_for_the_facts_the_reviewer_names():
    case = in_review()
    result = case.review("pend", missing_facts=["diagnosis.mrd_percent", "clinical.weight_kg"])
    assert result.accepted and case.s.status == "pended"
    assert case.s.missing_facts == ["diagnosis.mrd_percent", "clinical.weight_kg"]
    assert result.missing_facts == case.s.missing_facts
    pend = [e for e in case.effects if isinstance(e, Notify) and e.kind == "pend"][-1]
    assert pend.payload["missing_facts"] == case.s.missing_facts
    assert "diagnosis.mrd_percent" in _rows(case, "review")[-1].reasons[0]["text"]


@pytest.mark.parametrize(
    ("extra", "fields"),
    [
        ({"determination": "pend", "missing_facts": ["diagnosis.nope"]}, ["missing_facts[0]"]),
        ({"determination": "pend", "missing_facts": ["diagnosis"]}, ["missing_facts[0]"]),
        ({"determination": "pend", "missing_facts": ["member.member_id"]}, ["missing_facts[0]"]),
        ({"determination": "deny", "authorized_units": 5}, ["authorized_units"]),
        ({"determination": "approve", "missing_facts": ["clinical.weight_kg"]}, ["missing_facts"]),
        (
            {"determination": "approve", "authorized_units": 5, "rationale": " "},
            ["rationale"],
        ),
    ],
)
def test_malformed_decisions_name_their_fields(extra, fields):
    inp = ReviewDecisionInput.model_validate({"reviewer_id": "rph-1", "rationale": "x", **extra})
    assert [p["field"] for p in review_input_problems(inp)] == fields


def test_fact_paths_are_the_requests_own_fields():
    assert fact_path_problem("diagnosis.mrd_percent") is None
    assert fact_path_problem("therapy.prior_blinatumomab_cycles") is None
    assert fact_path_problem("diagnosis.mrd") is not None
    assert fact_path_problem("clinical") is not None
    assert fact_path_problem("received_at") is not None


# ------------------------------------------------------------------ review clock extension


def _extend(case, days=5, reason="waiting for the bone marrow report"):
    result, effects = case.agg.extend_review(
        ExtendReviewInput(days=days, reason=reason, reviewer_id="rph-1")
    )
    case.take(effects)
    return result


def test_an_extension_moves_the_decision_clock_and_its_escalation():
    case = in_review()
    due = case.s.review.due_at
    result = _extend(case, days=5)
    assert result.accepted and result.due_at == due + timedelta(days=5)
    assert case.s.status == "in_review"  # not a status change: not in the transition table
    assert all(row.event != "review_extended" for row in TRANSITIONS)
    nxt = case.agg.next_deadline()
    assert nxt is not None and nxt.kind == "escalation"
    assert nxt.at == due + timedelta(days=5) - timedelta(hours=12)
    case.to(due + timedelta(hours=1)).due()  # the old clock passes: nothing happens
    assert not case.s.escalated and not case.s.review.overdue
    case.at_next()
    assert case.s.escalated
    case.at_next()
    assert case.s.review.overdue
    row = _rows(case, "review_extension")[0]
    assert (row.determination, row.reviewer_id, row.extends_review) == (
        "extended",
        "rph-1",
        "initial",
    )
    assert row.due_at == due + timedelta(days=5) and row.rationale
    notice = [e for e in case.effects if isinstance(e, Notify) and e.kind == "review_extended"]
    assert notice and notice[0].payload["days"] == 5


def test_an_escalated_review_is_no_longer_escalated_once_extended():
    case = in_review()
    case.at_next()
    assert case.s.escalated
    result, effects = case.agg.extend_review(
        ExtendReviewInput(days=2, reason="second opinion", reviewer_id="md-1")
    )
    assert result.accepted and not case.s.escalated
    assert SearchAttributes(escalated=False) in effects


def test_a_second_extension_or_no_open_review_is_refused():
    case = in_review()
    assert _extend(case).accepted
    again = _extend(case, days=1)
    assert not again.accepted and "already extended" in again.reason
    assert len(_rows(case, "review_extension")) == 1
    case.review("approve")
    closed = _extend(case)
    assert not closed.accepted and "no review is open" in closed.reason
    assert case.agg.extension_refusal() is not None


def test_an_initial_review_reopened_after_a_pend_is_not_extended_twice():
    case = in_review()
    assert _extend(case).accepted
    case.review("pend")
    case.at_next()  # the pend deadline: back to an initial review
    assert case.s.status == "in_review"
    assert not _extend(case).accepted  # the decisions table keeps one per review


def test_the_status_view_shows_the_extended_due_time():
    case = in_review()
    _extend(case, days=3)
    view = case.agg.status_view()
    assert view.review_extended_days == 3
    assert view.review_due == RECEIVED + timedelta(hours=72, days=3)


def test_the_extension_notice_reads_the_policy_and_the_new_due_time():
    from activities.models import NotificationInput
    from activities.notice_text import render
    from domain.policy import load_policy

    case = in_review()
    _extend(case, days=4, reason="waiting for the marrow report")
    notice = next(e for e in case.effects if isinstance(e, Notify) and e.kind == "review_extended")
    assert "review_extended" in NotificationInput.model_fields["kind"].annotation.__args__
    text = render(notice.kind, notice.payload, "pa-T", policy=load_policy())
    assert "review timeframe extended" in text and "blinatumomab" in text
    assert notice.payload["due_by"] in text and "waiting for the marrow report" in text
