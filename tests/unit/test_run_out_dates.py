"""POLICY.md, "Claims run-out": how long an ended case keeps answering claims, without a server.

The last payable date of service (the last period's end, death, discontinuation, the day
before a withdrawal), the run-out's last day (that + the timely-filing limit), the limit
by line of business (policy data, a setting may override), what the Temporal UI says, and
the answers an ended case keeps.
"""

from __future__ import annotations

from datetime import date

import pytest

from activities.evaluation import track_terms
from cases.config import case_config
from domain.case.state import CaseState, ClaimRecord, PeriodState
from domain.claim import ClaimAnswer
from infra.settings import Settings
from tests.unit.factories import request
from workflows.ui import current_details

INITIAL = PeriodState(
    start=date(2026, 12, 3), end=date(2027, 6, 30), cycles=5, authorized_units=4900
)
RENEWAL = PeriodState(
    start=date(2027, 7, 1), end=date(2027, 12, 15), kind="renewal", cycles=2, authorized_units=1960
)


def case(**changes) -> CaseState:
    state = CaseState(
        case_id="pa-REQ-1001",
        request=request(),
        received_day=date(2026, 12, 1),
        periods=[INITIAL],
        status="expired",
    )
    return state.model_copy(update=changes)


# --- the last payable date of service and the run-out's last day ------------------------------


def test_an_expired_case_runs_out_its_last_periods_end_plus_the_limit():
    assert case().claims_through() == date(2027, 6, 30)
    assert case().run_out_end(180) == date(2027, 12, 27)
    assert case().run_out_end(365) == date(2028, 6, 29)


def test_a_completed_case_runs_out_from_its_last_period():
    completed = case(status="completed", periods=[INITIAL, RENEWAL])

    assert completed.run_out_end(180) == date(2028, 6, 12)


@pytest.mark.parametrize(
    ("changes", "through"),
    [
        ({"status": "discontinued", "discontinued_date": date(2027, 1, 10)}, date(2027, 1, 10)),
        ({"status": "discontinued", "death_date": date(2027, 2, 1)}, date(2027, 2, 1)),
        ({"status": "withdrawn", "withdrawn_on": date(2027, 1, 10)}, date(2027, 1, 9)),
        ({"status": "withdrawn", "withdrawn_on": date(2027, 9, 1)}, date(2027, 6, 30)),
    ],
    ids=["discontinued", "death", "withdrawn", "withdrawn-after-the-period"],
)
def test_withdrawal_death_and_discontinuation_end_the_payable_days_earlier(changes, through):
    assert case(**changes).claims_through() == through


@pytest.mark.parametrize(
    ("changes", "run_out_end"),
    [
        ({"status": "discontinued", "discontinued_date": date(2027, 1, 10)}, date(2027, 12, 27)),
        ({"status": "discontinued", "death_date": date(2027, 2, 1)}, date(2027, 12, 27)),
        ({"status": "withdrawn", "withdrawn_on": date(2027, 1, 10)}, date(2027, 7, 8)),
        ({"status": "withdrawn", "withdrawn_on": date(2027, 9, 1)}, date(2027, 12, 27)),
    ],
    ids=["discontinued", "death", "withdrawn", "withdrawn-after-the-period"],
)
def test_the_run_out_end_never_reveals_a_date_of_death_or_discontinuation(changes, run_out_end):
    """The run-out's end is a search attribute in clear: counted from the period's end (or a
    withdrawal, an administrative act), never from a clinical date of the member."""
    assert case(**changes).run_out_end(180) == run_out_end


@pytest.mark.parametrize(
    "changes",
    [
        {"periods": [], "status": "denied"},
        {"periods": [], "status": "not_applicable"},
        {"periods": [], "status": "withdrawn"},
        {"status": "withdrawn", "withdrawn_on": date(2026, 12, 3)},  # before its period began
    ],
    ids=["denied", "not-applicable", "withdrawn-before-approval", "withdrawn-before-the-start"],
)
def test_a_case_without_a_payable_day_has_no_run_out(changes):
    assert case(**changes).run_out_end(180) is None


# --- the limit: policy data by line of business, a setting may override -----------------------


@pytest.mark.parametrize(
    ("lob", "days"), [("commercial", 180), ("medicaid", 365), ("medicare_advantage", 365)]
)
def test_the_case_terms_carry_the_policy_datas_limit_for_its_line_of_business(policy, lob, days):
    terms = track_terms(policy, "relapsed_refractory", lob)

    assert terms.timely_filing_days == days
    assert case_config(Settings()).timely_filing(lob, terms.timely_filing_days) == days


def test_a_setting_overrides_the_limit_of_its_line_of_business_only():
    config = case_config(Settings(timely_filing_days_medicaid=90))

    assert config.timely_filing_days == {"medicaid": 90}
    assert config.timely_filing("medicaid", 365) == 90
    assert config.timely_filing("commercial", 180) == 180


def test_no_setting_leaves_the_policy_data_alone():
    assert case_config(Settings()).timely_filing_days == {}


def test_terms_granted_before_the_policy_data_carried_a_limit_fall_back_to_policy_md():
    config = case_config(Settings())

    assert config.timely_filing("commercial", None) == 180
    assert config.timely_filing("medicaid", None) == 365


# --- what an ended case shows and keeps ---------------------------------------------------------


def test_the_ui_says_run_out_until_its_last_day_and_ended_once_it_has():
    state = case(run_out_until=date(2027, 12, 27))

    details = current_details(state, "claims run-out ends (2027-12-27)")
    assert details.splitlines()[0] == "**expired** — run-out until 2027-12-27"
    assert "dates of service through 2027-06-30" in details
    closed = current_details(state, closed=True)
    assert closed.splitlines()[0] == "**expired** — run-out ended 2027-12-27"
    assert "run-out" not in current_details(case())


def test_archived_claim_answers_are_the_same_answers_in_the_same_order():
    def record(claim_id: str) -> ClaimRecord:
        answer = ClaimAnswer(
            claim_id=claim_id, line=1, status="paid", allowed_units=35, denied_units=0
        )
        return ClaimRecord(
            fingerprint=claim_id * 2, answer=answer, date_of_service=date(2027, 6, 1)
        )

    state = case(claims={"A:1:original": record("A"), "B:1:original": record("B")})
    before = state.claim_answers()

    state.archive_claims()
    state.claims["C:1:original"] = record("C")

    assert state.claim_record("A:1:original") == record("A")
    assert state.claim_record("Z:1:original") is None
    assert state.claim_answers() == [*before, record("C").answer]
    assert list(state.claims) == ["C:1:original"]
