"""Every row of the case's transition table, by the table and through the aggregate (no server).

domain/case/transitions.py is the one place a status changes: each row names
its event, the statuses it may happen in, where it leads and the policy
section that rules it. Each row is driven here through ``CaseAggregate`` by
the message or deadline that causes it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from domain.case.effects import ContinueAsNew, EndRun, RecordDecision, SearchAttributes
from domain.case.transitions import (
    TRANSITIONS,
    InvalidTransition,
    transition,
    transition_for,
)
from tests.unit.case_harness import (
    PERIOD_END,
    Case,
    approved,
    denied,
    in_review,
    in_window,
)

STATUSES = {
    "received",
    "pended",
    "in_review",
    "active",
    "renewal_window",
    "denied",
    "appealed",
    "expired",
    "completed",
    "withdrawn",
    "discontinued",
    "not_applicable",
}
FINAL = {"expired", "completed", "withdrawn", "not_applicable"}


@pytest.mark.parametrize("row", TRANSITIONS, ids=lambda r: r.event)
def test_every_row_leads_from_each_of_its_sources_to_its_target(row):
    for source in row.sources:
        target, ref = transition(source, row.event, restored="active")
        assert target == (row.target or "active")
        assert ref == row.policy_ref and ref  # every row cites the policy section ruling it


def test_the_table_names_only_the_fixed_statuses_and_every_event_once():
    assert {s for r in TRANSITIONS for s in r.sources} <= STATUSES
    assert {r.target for r in TRANSITIONS if r.target} <= STATUSES
    assert len({r.event for r in TRANSITIONS}) == len(TRANSITIONS)


@pytest.mark.parametrize("status", sorted(FINAL))
def test_a_final_status_takes_no_event(status):
    assert all(transition_for(status, r.event) is None for r in TRANSITIONS)


def test_an_event_without_a_row_is_refused():
    with pytest.raises(InvalidTransition):
        transition("expired", "approved")
    with pytest.raises(InvalidTransition):
        transition("active", "appealed")
    with pytest.raises(InvalidTransition):  # a reinstatement needs the status to go back to
        transition("discontinued", "reinstated")


# ---------------------------------------------------------------------------------------
# Each row through the aggregate: (the case before, what happens, the status after).


def _approved() -> Case:
    case = Case()
    effects = case.evaluate("approve")
    assert SearchAttributes(status="active") in effects
    assert "approval" in case.notices()
    return case


def _pended() -> Case:
    case = Case()
    case.evaluate("pend", missing_facts=["diagnosis.mrd_percent"])
    assert case.s.pend_deadline is not None and "pend" in case.notices()
    return case


def _review_opened() -> Case:
    case = in_review()
    assert case.s.review is not None and case.s.review.kind == "initial"
    assert "review_assignment" in case.notices()
    return case


def _denied() -> Case:
    case = denied()
    assert case.s.denied_by == "rph-1" and case.s.appeal_deadline is not None
    assert any(isinstance(e, RecordDecision) and e.kind == "review" for e in case.effects)
    return case


def _not_applicable() -> Case:
    case = Case()
    case.evaluate("not_applicable")
    assert case.agg.finished and any(isinstance(e, EndRun) for e in case.effects)
    return case


def _appealed() -> Case:
    case = denied()
    result = case.appeal()
    assert result.accepted
    assert case.statuses[-2:] == ["appealed", "in_review"]  # then another reviewer decides
    assert case.s.review is not None and case.s.review.exclude_reviewer == "rph-1"
    return case


def _window_opened() -> Case:
    case = in_window()
    assert "renewal_window_open" in case.notices()
    return case


def _window_closed() -> Case:
    case = in_window()
    result, effects = case.agg.extend_period(_extension(60))
    case.take(effects)
    assert result.accepted and case.s.period is not None
    assert case.s.period.end == PERIOD_END + timedelta(days=60)
    return case


def _extension(days: int):
    from domain.case.messages import ExtendPeriodInput

    return ExtendPeriodInput(days=days, rationale="paused", reviewer_id="rph-1")


def _renewed() -> Case:
    case = in_window()
    result = case.renew("approve")
    assert result.accepted and case.s.renewals_used == 1
    assert any(isinstance(e, ContinueAsNew) for e in case.effects)
    return case


def _period_started() -> Case:
    case = in_window()
    case.renew("approve")
    case.to(PERIOD_END + timedelta(days=1))
    case.due()
    assert case.s.period_index == 1
    return case


def _expired() -> Case:
    case = approved()
    case.to(PERIOD_END + timedelta(days=1))
    case.due()
    assert "expiry" in case.notices()
    return case


def _completed() -> Case:
    case = Case()
    case.evaluate("approve")
    case.s.max_renewals = 0  # a grant that leaves no renewal (Section I)
    case.to(PERIOD_END + timedelta(days=1))
    case.due()
    assert "completed" in case.notices()
    return case


def _withdrawn() -> Case:
    case = approved()
    case.later(days=3)
    result, effects = case.agg.withdraw(_withdraw())
    case.take(effects)
    assert result.accepted
    assert isinstance(effects[0], RecordDecision) and effects[0].kind == "withdrawal"
    assert case.s.withdrawn_on == date(2026, 12, 4)
    return case


def _withdraw():
    from domain.case.messages import WithdrawInput

    return WithdrawInput(reason="patient moved", requested_by="intake-1")


def _discontinued() -> Case:
    case = approved()
    case.later(days=10)
    case.event("EV-D", "discontinued", date(2026, 12, 10))
    assert case.s.discontinued_from is not None and not case.agg.finished
    return case


def _reinstated() -> Case:
    case = _discontinued()
    case.event(
        "EV-R",
        "retraction",
        date(2026, 12, 11),
        retraction={"retracts": "EV-D", "reason": "entered in error"},
    )
    assert "reinstated" in case.notices()
    return case


DRIVERS: dict[str, tuple[Callable[[], Case], str]] = {
    "approved": (_approved, "active"),
    "pended": (_pended, "pended"),
    "review_opened": (_review_opened, "in_review"),
    "denied": (_denied, "denied"),
    "not_applicable": (_not_applicable, "not_applicable"),
    "appealed": (_appealed, "in_review"),
    "window_opened": (_window_opened, "renewal_window"),
    "window_closed": (_window_closed, "active"),
    "renewed": (_renewed, "active"),
    "period_started": (_period_started, "active"),
    "expired": (_expired, "expired"),
    "completed": (_completed, "completed"),
    "withdrawn": (_withdrawn, "withdrawn"),
    "discontinued": (_discontinued, "discontinued"),
    "reinstated": (_reinstated, "active"),
}


def test_every_row_is_driven_through_the_aggregate_below():
    assert set(DRIVERS) == {r.event for r in TRANSITIONS}


@pytest.mark.parametrize("event", sorted(DRIVERS))
def test_the_aggregate_takes_each_row_to_its_status(event):
    drive, status = DRIVERS[event]
    case = drive()
    assert case.s.status == status
    assert case.statuses[0] == "received"
    # Every status change is the status attribute's too (AuthStatus).
    upserted = [e.status for e in case.effects if isinstance(e, SearchAttributes) and e.status]
    assert upserted[-1] == status


def test_a_repeated_status_is_no_new_status_change():
    case = _pended()
    before = len(case.s.status_changes)
    case.evaluate("pend", kind="info", missing_facts=["diagnosis.mrd_percent"])
    assert len(case.s.status_changes) == before and case.s.status == "pended"


def test_refused_messages_change_nothing():
    case = approved()
    before = case.s.model_dump()
    result, effects = case.agg.appeal(_appeal())
    assert not result.accepted and effects == []
    assert case.s.model_dump() == before


def _appeal():
    from domain.case.messages import AppealInput

    return AppealInput(reason="again")


def test_the_appeal_is_decided_by_another_reviewer():
    case = _appealed()
    refused = case.review("approve", reviewer="rph-1")
    assert not refused.accepted and case.s.status == "in_review"
    assert case.review("approve", reviewer="md-2").accepted
    assert case.s.status == "active"


def test_a_deny_recommendation_goes_to_a_reviewer_and_an_automated_deny_is_final_with_appeal():
    recommended = Case()
    recommended.evaluate("deny")  # automated=False: a recommendation (no adverse automation)
    assert recommended.s.status == "in_review"
    automated = Case()
    automated.evaluate("deny", automated=True)
    assert automated.s.status == "denied" and automated.s.appeal_deadline is not None


def test_a_failed_evaluation_goes_to_review():
    case = Case()
    ask = case.agg.evaluation("initial", "intake-1")
    _det, effects = case.agg.on_evaluation(ask, None, failure="boom")
    case.take(effects)
    assert case.s.status == "in_review"
    assert case.s.review is not None and case.s.review.reasons[0].code == "evaluation_failed"


def test_death_before_approval_ends_the_case_at_once():
    case = in_review()
    case.later(days=1)
    case.event("EV-X", "death", date(2026, 12, 2))
    assert case.s.status == "discontinued" and case.agg.finished
