"""What the case aggregate answers to messages and which effects it asks for (no server)."""

from __future__ import annotations

from datetime import date, timedelta

from domain.case.aggregate import CaseAggregate
from domain.case.effects import Notify, Project, RecordClinicalEvent, RecordDecision
from domain.case.messages import ProvideInfoInput, WithdrawInput
from domain.case.state import CaseState
from domain.clinical_event import ClinicalEvent
from tests.unit.case_harness import PERIOD_END, approved, clocks


def test_a_paid_claim_counts_its_units_once_and_starts_a_cycle():
    case = approved()
    case.to(date(2026, 12, 5))
    effects = case.claim("C-1", date(2026, 12, 5), units=35)
    assert case.s.units_paid == 35 and case.s.periods[0].units_paid == 35
    assert effects == [Project()]  # the started cycle is projected; a plain line is not
    assert case.claim("C-2", date(2026, 12, 6), units=35) == []
    line = case.claim_message(case.request.member.member_id).claim_line()
    assert case.agg.earlier_answer(line) == (None, False)


def test_claims_for_another_member_or_after_the_run_out_are_refused():
    case = approved()
    assert case.agg.claim_problem(case.claim_message("M-OTHER")) is not None
    assert case.agg.claim_problem(case.claim_message(case.request.member.member_id)) is None
    case.to(PERIOD_END + timedelta(days=1)).due()
    case.at_next()  # the run-out's end
    problem = case.agg.claim_problem(case.claim_message(case.request.member.member_id))
    assert problem is not None and "run-out ended" in problem


def test_a_clinical_event_is_recorded_first_and_a_repeat_is_answered_as_such():
    case = approved()
    case.later(days=2)
    result = case.event("EV-1", "toxicity", date(2026, 12, 3), toxicity={"kind": "crs", "grade": 1})
    assert result.accepted
    recorded = [e for e in case.effects if isinstance(e, RecordClinicalEvent)]
    assert [e.event.event_id for e in recorded] == ["EV-1"]
    again = case.agg.duplicate_event(recorded[0].event)
    assert again is not None and again.duplicate


def test_an_event_dated_before_receipt_is_refused_naming_the_date():
    case = approved()
    early = ClinicalEvent.model_validate({"event_id": "E", "type": "death", "date": "2026-11-01"})
    problem = case.agg.event_problem(early)
    assert problem is not None and problem.field == "date" and problem.kind == "invalid"


def test_a_withdrawal_is_recorded_before_its_notice_and_names_the_requester():
    case = approved()
    result, effects = case.agg.withdraw(WithdrawInput(reason="moved", requested_by="intake-2"))
    assert result.accepted
    kinds = [type(e).__name__ for e in effects]
    assert kinds.index("RecordDecision") < kinds.index("Notify")
    record = next(e for e in effects if isinstance(e, RecordDecision))
    notice = next(e for e in effects if isinstance(e, Notify))
    assert record.actor == notice.actor == "intake-2"


def test_facts_outside_a_pend_or_review_are_refused():
    case = approved()
    route = case.agg.info_route(ProvideInfoInput(facts={"clinical.weight_kg": 61}))
    assert not isinstance(route, str) and not route.accepted


def test_the_status_view_says_what_the_case_waits_for():
    case = approved()
    view = case.agg.status_view()
    assert view.status == "active" and view.renewal_window_opens == PERIOD_END - timedelta(30)
    assert view.awaiting == f"renewal window opens {PERIOD_END - timedelta(30)}"
    assert view.max_renewals == 2 and view.total_cycles == 9


def test_only_the_first_submission_of_a_request_is_new_even_after_a_continue_as_new():
    case = approved()
    assert case.agg.submission() is True  # the one that came with the start
    assert case.agg.submission() is False  # a repeat
    carried = CaseState.model_validate_json(case.s.model_dump_json())  # continue-as-new
    continued = CaseAggregate.continued(carried, clocks(), "m_ref")
    assert continued.submission() is False and continued.s.submissions == 3
