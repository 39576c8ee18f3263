"""Every clock of a case, from the one deadline list (domain/case/deadlines.py), without a server.

The list is derived from the case's state; the workflow arms a timer for the
earliest, and the same list says what is due when it fires
(``CaseAggregate.on_due``).
"""

from __future__ import annotations

from datetime import date, timedelta

from domain.case.deadlines import ORDER, deadlines
from domain.case.effects import EndRun, Notify, SearchAttributes
from tests.unit.case_harness import (
    PERIOD_END,
    RECEIVED,
    Case,
    approved,
    clocks,
    denied,
    in_review,
    in_window,
    midnight,
)


def kinds(case: Case) -> list[str]:
    return sorted(d.kind for d in deadlines(case.s, case.agg.config))


def test_a_received_case_has_no_clock():
    assert Case().agg.next_deadline() is None


def test_the_pend_deadline_sends_the_case_to_review():
    case = Case()
    case.evaluate("pend", missing_facts=["diagnosis.mrd_percent"])
    nxt = case.agg.next_deadline()
    assert nxt is not None and nxt.kind == "pend_deadline"
    assert nxt.at == RECEIVED + timedelta(days=14)
    case.to(nxt.at - timedelta(seconds=1)).due()
    assert case.s.status == "pended"  # not due a second early
    case.at_next()
    assert case.s.status == "in_review" and case.s.review is not None
    assert case.s.review.recommendation == "pend"


def test_a_review_is_escalated_before_its_decision_clock_runs_out():
    case = in_review()
    nxt = case.agg.next_deadline()
    assert nxt is not None and nxt.kind == "escalation"
    assert nxt.at == RECEIVED + timedelta(hours=72 - 12)  # standard 72 h, 12 h before
    effects = case.at_next()
    assert case.s.escalated and SearchAttributes(escalated=True) in effects
    assert "escalation" in case.notices()
    nxt = case.agg.next_deadline()
    assert nxt is not None and nxt.kind == "decision_clock"
    assert nxt.at == RECEIVED + timedelta(hours=72)
    case.at_next()
    assert case.s.review is not None and case.s.review.overdue
    assert case.agg.next_deadline() is None  # the reviewer is late: nothing more to arm


def test_an_expedited_clock_is_shorter():
    case = Case(urgency="expedited")
    case.evaluate("review")
    assert case.s.review is not None and case.s.review.due_at == RECEIVED + timedelta(hours=24)


def test_a_clock_shorter_than_the_escalation_lead_escalates_at_once():
    case = Case(clocks(escalate_before_hours=100))
    case.evaluate("review")
    case.due()
    assert case.s.escalated


def test_an_unused_appeal_window_ends_the_case_denied():
    case = denied()
    nxt = case.agg.next_deadline()
    assert nxt is not None and nxt.kind == "appeal_window"
    assert nxt.at == RECEIVED + timedelta(days=180)  # commercial
    effects = case.at_next()
    assert case.s.status == "denied" and case.agg.finished
    assert any(isinstance(e, EndRun) for e in effects)


def test_an_approved_case_runs_its_period_renewal_and_cycle_clocks():
    case = approved()
    assert kinds(case) == sorted(
        ["period_end", "renewal_window", "renewal_reminder", "renewal_reminder"]
    )
    ends = [d for d in deadlines(case.s, case.agg.config) if d.kind == "period_end"]
    assert ends[0].at == midnight(PERIOD_END + timedelta(days=1))  # the last day is whole


def test_the_renewal_window_opens_n_days_before_the_end_and_reminders_follow():
    case = approved()
    nxt = case.agg.next_deadline()
    assert nxt is not None and nxt.kind == "renewal_window"
    assert nxt.at == midnight(PERIOD_END - timedelta(days=30))  # the policy's N
    case.at_next()
    assert case.s.status == "renewal_window"
    reminders = [d for d in deadlines(case.s, case.agg.config) if d.kind == "renewal_reminder"]
    assert [(d.n, d.at) for d in reminders] == [
        (14, midnight(PERIOD_END - timedelta(days=14))),
        (7, midnight(PERIOD_END - timedelta(days=7))),
    ]
    case.at_next()
    case.at_next()
    sent = [e for e in case.effects if isinstance(e, Notify) and e.kind == "renewal_reminder"]
    assert [e.payload["days_left"] for e in sent] == [15, 8]
    assert kinds(case) == ["period_end"]


def test_ties_are_handled_in_the_lists_order():
    # A 30-day reminder falls due with the window's opening: the window opens first.
    case = Case(clocks(renewal_reminder_days=[30]))
    case.evaluate("approve")
    case.to(PERIOD_END - timedelta(days=30)).due()
    assert case.notices()[-2:] == ["renewal_window_open", "renewal_reminder"]
    assert ORDER.index("renewal_window") < ORDER.index("renewal_reminder")


def test_the_period_end_expires_a_renewable_case_and_starts_its_run_out():
    case = approved()
    case.to(PERIOD_END + timedelta(days=1)).due()
    assert case.s.status == "expired" and not case.agg.finished
    assert case.s.run_out_until == PERIOD_END + timedelta(days=180)
    assert SearchAttributes(run_out_until=case.s.run_out_until) in case.effects
    assert kinds(case) == ["run_out_end"]  # the only clock of an ended case


def test_the_run_out_end_ends_the_run():
    case = approved()
    case.to(PERIOD_END + timedelta(days=1)).due()
    nxt = case.agg.next_deadline()
    assert nxt is not None and nxt.kind == "run_out_end"
    assert nxt.at == midnight(PERIOD_END + timedelta(days=181))
    effects = case.at_next()
    assert case.agg.finished and any(isinstance(e, EndRun) for e in effects)


def test_many_due_clocks_are_handled_in_one_go_earliest_first():
    case = approved()
    case.to(PERIOD_END + timedelta(days=2)).due()  # a worker that was away for months
    assert case.notices()[-4:] == [
        "renewal_window_open",
        "renewal_reminder",
        "renewal_reminder",
        "expiry",
    ]
    assert case.s.status == "expired"


def test_a_renewed_case_moves_to_its_next_period_at_the_end():
    case = in_window()
    case.renew("approve")
    assert kinds(case).count("period_end") == 1
    case.to(PERIOD_END + timedelta(days=1)).due()
    assert case.s.period_index == 1 and case.s.status == "active"
    assert case.s.period is not None and case.s.period.kind == "renewal"


def test_a_cycle_boundary_is_noted_when_the_cycles_length_is_over():
    case = approved()
    case.to(date(2026, 12, 5))
    case.claim("C-1", date(2026, 12, 5))
    assert [c.cycle for c in case.s.cycles] == [1]
    boundary = [d for d in deadlines(case.s, case.agg.config) if d.kind == "cycle_boundary"]
    assert [(d.n, d.at) for d in boundary] == [(1, midnight(date(2026, 12, 5) + timedelta(42)))]
    case.to(boundary[0].at).due()
    assert case.s.boundaries_logged == [1]
    assert "cycle_boundary" not in kinds(case)


def test_an_extension_moves_the_period_end_and_can_close_the_window():
    from domain.case.messages import ExtendPeriodInput

    case = in_window()
    _result, _effects = case.agg.extend_period(
        ExtendPeriodInput(days=45, rationale="paused", reviewer_id="rph-1")
    )
    assert case.s.status == "active"
    nxt = case.agg.next_deadline()
    assert nxt is not None and nxt.kind == "renewal_window"
    assert nxt.at == midnight(PERIOD_END + timedelta(days=45 - 30))


def test_a_discontinued_case_keeps_its_period_end_then_ends():
    case = approved()
    case.later(days=10)
    case.event("EV-D", "discontinued", date(2026, 12, 10))
    assert kinds(case) == ["period_end"]
    case.to(PERIOD_END + timedelta(days=1)).due()
    assert case.s.status == "discontinued"
    assert case.s.run_out_until == PERIOD_END + timedelta(days=180)


def test_the_timer_sleeps_at_least_a_second():
    case = approved()
    nxt = case.agg.next_deadline()
    assert nxt is not None
    case.to(nxt.at + timedelta(hours=1))
    assert case.agg.timer_delay(nxt) == timedelta(seconds=1)
